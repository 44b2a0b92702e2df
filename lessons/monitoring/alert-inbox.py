#!/usr/bin/env python3
"""A tiny stand-in for a chat webhook (Slack, Teams, Viber, ...) for the monitoring lesson.

Every POST is appended to the inbox log, one line each:
    TIME POST PATH from ADDRESS (USER-AGENT) json=ok|invalid BODY
A GET shows the last twenty lines, so `curl http://127.0.0.1:PORT/` reads the inbox.
Usage: alert-inbox.py PORT [LOG]"""

import json
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PORT = int(sys.argv[1]) if len(sys.argv) > 1 else 9000
LOG = sys.argv[2] if len(sys.argv) > 2 else "/var/log/alert-inbox.log"


class Inbox(BaseHTTPRequestHandler):
    server_version = "alert-inbox"

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(min(length, 16384)).decode("utf-8", "replace")
        try:
            json.loads(body)
            valid = "ok"
        except ValueError:
            valid = "invalid"
        line = "%s POST %s from %s (%s) json=%s %s\n" % (
            time.strftime("%Y-%m-%dT%H:%M:%S"),
            self.path,
            self.client_address[0],
            self.headers.get("User-Agent", "-"),
            valid,
            " ".join(body.split()),
        )
        with open(LOG, "a", encoding="utf-8") as f:
            f.write(line)
        self.answer(200 if valid == "ok" else 400, {"received": valid == "ok"})

    def do_GET(self):
        try:
            with open(LOG, encoding="utf-8") as f:
                lines = f.readlines()[-20:]
        except OSError:
            lines = []
        data = ("".join(lines) or "(the inbox is empty)\n").encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def answer(self, status, value):
        data = (json.dumps(value) + "\n").encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, fmt, *args):
        sys.stdout.write("%s %s\n" % (self.client_address[0], fmt % args))
        sys.stdout.flush()


if __name__ == "__main__":
    print("alert inbox on http://127.0.0.1:%d/, writing %s" % (PORT, LOG), flush=True)
    ThreadingHTTPServer(("127.0.0.1", PORT), Inbox).serve_forever()
