#!/usr/bin/env python3
"""Try a lesson in headless Chromium the way a learner would, from a script of actions.

    tools/try-lesson.py http://127.0.0.1:8080 linux-basics walk.txt out/

The server must be running (`pathshala serve`). The script has one action per line:

    $ COMMAND      type COMMAND into the terminal and press Enter
    > TEXT         type TEXT without Enter (into an editor, say)
    ctrl KEY       press Ctrl+KEY (ctrl o, ctrl x for nano; ctrl c)
    wait SECONDS   let the terminal work
    check          press Check and print every check's result and message
    hint           reveal the next hint and print it
    next           go to the next step (prints its title and instructions)
    step N         open step N (1-based) from the step list
    shot NAME      save a screenshot as OUT/NAME.png
    screen         print what the terminal shows
    # ...          a comment, printed as it is

Everything the learner would read is printed, so an author can follow the lesson as a
newcomer would. The sandbox is removed at the end, as the Reset button would. Needs `chromium` and `chromedriver` on PATH; uses only Python's standard
library (it speaks WebDriver to chromedriver directly)."""

import base64
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request

ELEMENT = "element-6066-11e4-a52e-4f735466cecf"
ENTER = "\ue007"
CONTROL = "\ue009"


class Browser:
    def __init__(self):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        driver = shutil.which("chromedriver") or "/usr/bin/chromedriver"
        self.driver = subprocess.Popen([driver, f"--port={port}"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.base = f"http://127.0.0.1:{port}"
        for _ in range(100):
            try:
                self.call("GET", "/status")
                break
            except OSError:
                time.sleep(0.1)
        args = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                "--disable-background-networking", "--window-size=1400,900"]
        caps = {"capabilities": {"alwaysMatch": {"goog:chromeOptions": {"args": args}}}}
        self.session = self.call("POST", "/session", caps)["sessionId"]

    def call(self, method, path, body=None):
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.base + path, data=data, method=method,
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=120) as response:
            return json.loads(response.read() or b"{}").get("value", {})

    def do(self, method, path, body=None):
        return self.call(method, f"/session/{self.session}{path}", body)

    def js(self, script, *args):
        return self.do("POST", "/execute/sync", {"script": script, "args": list(args)})

    def find(self, css, within=30):
        deadline = time.time() + within
        while True:
            found = self.js("const e = document.querySelector(arguments[0]); return e && e.offsetParent !== null;", css)
            if found:
                return self.do("POST", "/element", {"using": "css selector", "value": css})[ELEMENT]
            if time.time() > deadline:
                raise SystemExit(f"nothing visible matches {css!r} after {within} s")
            time.sleep(0.2)

    def click(self, css):
        self.do("POST", f"/element/{self.find(css)}/click", {})

    def text(self, css):
        return self.js("const e = document.querySelector(arguments[0]); return e ? e.innerText : '';", css)

    def type_keys(self, css, text):
        self.do("POST", f"/element/{self.find(css)}/value", {"text": text})

    def screenshot(self, path):
        with open(path, "wb") as f:
            f.write(base64.b64decode(self.do("GET", "/screenshot")))

    def close(self):
        try:
            self.do("DELETE", "")
        finally:
            self.driver.terminate()


def print_step(browser):
    print(f"\n=== {browser.text('#step-title')} ===")
    print(browser.text("#step-body").strip())
    previews = browser.text("#previews").strip()
    if previews:
        print(f"[links: {previews}]")


def check(browser):
    # Clear the last verdict so that only this check's results are read.
    browser.js("document.getElementById('results').innerHTML = '';")
    browser.click("#check")
    deadline = time.time() + 60
    while not browser.js("return document.querySelectorAll('#results li:not(.checking)').length > 0;"):
        if time.time() > deadline:
            print("[check: no results after 60 s]")
            return
        time.sleep(0.2)
    time.sleep(0.3)
    print("[check]")
    for line in browser.text("#results").strip().splitlines():
        print(f"  {line}")


def main(argv):
    if len(argv) != 5:
        print(__doc__)
        return 2
    server, lesson, script, out = argv[1:]
    os.makedirs(out, exist_ok=True)
    browser = Browser()
    try:
        browser.do("POST", "/url", {"url": f"{server}/lessons/{lesson}"})
        deadline = time.time() + 90
        while browser.text("#status").strip() != "Connected":
            if time.time() > deadline:
                raise SystemExit(f"the sandbox did not connect; the page says: {browser.text('#status')}")
            time.sleep(0.2)
        print(f"[status: {browser.text('#status')}]")
        print_step(browser)
        for raw in open(script, encoding="utf-8"):
            line = raw.rstrip("\n")
            action, _, rest = line.strip().partition(" ")
            if not action:
                continue
            if action.startswith("#"):
                print(line)
            elif action == "$":
                print(f"$ {rest}")
                browser.type_keys(".xterm-helper-textarea", rest + ENTER)
                time.sleep(0.5)
            elif action == ">":
                print(f"> {rest}")
                browser.type_keys(".xterm-helper-textarea", rest)
            elif action == "ctrl":
                print(f"[ctrl {rest}]")
                browser.type_keys(".xterm-helper-textarea", CONTROL + rest.lower() + CONTROL)
                time.sleep(0.3)
            elif action == "wait":
                time.sleep(float(rest))
            elif action == "check":
                check(browser)
            elif action == "hint":
                browser.click("#hint")
                hints = browser.text("#hints").strip().splitlines()
                print(f"[hint] {hints[-1] if hints else '(none)'}")
            elif action == "next":
                browser.click("#next")
                print_step(browser)
            elif action == "step":
                browser.click(f"#steps li:nth-child({int(rest)}) button")
                print_step(browser)
            elif action == "shot":
                browser.screenshot(os.path.join(out, f"{rest}.png"))
                print(f"[screenshot {rest}.png]")
            elif action == "screen":
                rows = browser.js("return Array.from(document.querySelectorAll('.xterm-rows > div')).map(r => r.textContent);")
                print("[screen]\n" + "\n".join(r.rstrip() for r in rows if r.strip()))
            else:
                raise SystemExit(f"unknown action {action!r} in {script}")
        print(f"[progress: {browser.text('#progress')}]")
        next_lesson = browser.js("const a = document.getElementById('next-lesson'); return a && !a.hidden ? a.innerText : '';")
        if next_lesson:
            print(f"[{next_lesson}]")
    finally:
        # As the Reset button does: the sandbox goes with the walk (else walks fill the cap).
        try:
            browser.do("POST", "/execute/async", {"args": [lesson], "script":
                "const done = arguments[arguments.length - 1];"
                "const id = localStorage.getItem('pathshala.lesson.' + arguments[0]);"
                "if (!id) return done(false);"
                "fetch('/api/sessions/' + id, {method: 'DELETE'}).then(() => done(true), () => done(false));"})
        finally:
            browser.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
