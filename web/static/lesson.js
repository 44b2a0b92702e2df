// Pathshala lesson page: instructions beside the learner's own sandbox terminal, with
// checks, hints one at a time, runnable code blocks and live "watch" steps.
"use strict";

(function () {
  const WATCH_EVERY_MS = 5000;
  const $ = (id) => document.getElementById(id);
  const lessonId = document.body.dataset.lesson;
  const storageKey = `pathshala.lesson.${lessonId}`;
  let sessionId = null;
  let lesson = null; // the session's lesson view
  let current = 0;
  let hintsShown = 0;
  let terminal = null;
  let watchTimer = null;
  let checking = false;
  // Instructors watching this terminal now (a name once per open watch).
  const watchers = [];
  // Set when an instructor replaced this sandbox: the page is moving to the new one.
  let movingTo = null;

  function setStatus(text, kind) {
    const el = $("status");
    el.textContent = text;
    el.className = "status " + (kind || "");
  }

  async function api(method, path, body) {
    const response = await fetch(path, {
      method,
      headers: body === undefined ? {} : { "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const data = response.status === 204 ? {} : await response.json();
    if (!response.ok) throw new Error(data.error || `HTTP ${response.status}`);
    return data;
  }

  // The saved sandbox for this lesson if it still exists, else a new one.
  async function openSession() {
    const saved = localStorage.getItem(storageKey);
    if (saved) {
      try {
        const session = await api("GET", `/api/sessions/${saved}`);
        if (session.lesson && session.state === "running") return session;
      } catch (e) {
        /* gone: make a new one */
      }
    }
    // Boot progress: a fresh sandbox takes a few seconds (more on a slow link).
    const started = Date.now();
    const tick = () => setStatus(`Preparing your sandbox… ${Math.round((Date.now() - started) / 1000)} s`);
    tick();
    const ticking = setInterval(tick, 1000);
    try {
      const session = await api("POST", "/api/sessions", { lesson: lessonId });
      localStorage.setItem(storageKey, session.id);
      return session;
    } finally {
      clearInterval(ticking);
    }
  }

  function passed(step) {
    return lesson.passed_steps.includes(step);
  }

  function renderNav() {
    const nav = $("steps");
    nav.innerHTML = "";
    lesson.steps.forEach((step, i) => {
      const item = document.createElement("li");
      const button = document.createElement("button");
      button.type = "button";
      button.textContent = `${passed(i) ? "✓" : i + 1}  ${step.title}`;
      button.className = (i === current ? "current " : "") + (passed(i) ? "passed" : "");
      button.addEventListener("click", () => show(i));
      item.appendChild(button);
      nav.appendChild(item);
    });
    const done = lesson.passed_steps.length === lesson.steps.length;
    $("progress").textContent = done
      ? "lesson complete ✓"
      : `${lesson.passed_steps.length} of ${lesson.steps.length} steps done`;
    // A finished lesson says what the student did and where to go next.
    $("complete").hidden = !done;
    if (done) {
      $("done-steps").replaceChildren(
        ...lesson.steps.map((step) => {
          const item = document.createElement("li");
          item.textContent = `✓ ${step.title}`;
          return item;
        }),
      );
    }
  }

  // Copies a block's text: the clipboard where the browser allows it (https, localhost),
  // else the old way through a selection.
  async function copyText(text) {
    if (navigator.clipboard && window.isSecureContext) {
      try {
        await navigator.clipboard.writeText(text);
        return;
      } catch (e) {
        /* not allowed here: the selection below */
      }
    }
    const area = document.createElement("textarea");
    area.value = text;
    area.style.position = "fixed";
    area.style.opacity = "0";
    document.body.appendChild(area);
    area.select();
    const copied = document.execCommand("copy");
    area.remove();
    if (!copied) throw new Error("copy refused");
  }

  // Each command block gets a button that types it into the terminal: blocks without a
  // language, or marked sh, bash, shell or console. The others (```text, ```nginx,
  // ```ini: a file's content) get a Copy button instead.
  const RUNNABLE = /^(|sh|bash|shell|console)$/;
  function addRunButtons(container) {
    container.querySelectorAll("pre > code").forEach((code) => {
      const language = (code.className.match(/language-(\S+)/) || ["", ""])[1];
      if (!RUNNABLE.test(language)) {
        const copy = document.createElement("button");
        copy.type = "button";
        copy.className = "run copy";
        copy.textContent = "Copy";
        copy.title = "Copy this text, to paste into a file";
        copy.addEventListener("click", async () => {
          try {
            await copyText(code.textContent);
            copy.textContent = "Copied ✓";
          } catch (e) {
            copy.textContent = "Select and copy by hand";
          }
          setTimeout(() => (copy.textContent = "Copy"), 2000);
        });
        code.parentElement.appendChild(copy);
        return;
      }
      const button = document.createElement("button");
      button.type = "button";
      button.className = "run";
      button.textContent = "Run ▶";
      button.title = "Type this into the terminal";
      button.addEventListener("click", () => {
        const text = code.textContent.replace(/\n$/, "");
        terminal.type(text + "\r");
      });
      code.parentElement.appendChild(button);
    });
  }

  function show(i) {
    current = i;
    hintsShown = 0;
    const step = lesson.steps[i];
    $("step-title").textContent = `${i + 1}. ${step.title}`;
    $("step-body").innerHTML = step.body_html;
    addRunButtons($("step-body"));
    const previews = $("previews");
    previews.innerHTML = "";
    step.preview.forEach((port) => {
      const link = document.createElement("a");
      link.href = `/preview/${sessionId}/${port}/`;
      link.target = "_blank";
      link.rel = "noopener";
      link.textContent = `Open port ${port} in a new tab ↗`;
      previews.appendChild(link);
    });
    $("hints").innerHTML = "";
    $("hint").hidden = step.hints_html.length === 0;
    $("hint").disabled = false;
    $("hint").textContent = `Show a hint (${step.hints_html.length})`;
    $("results").innerHTML = "";
    $("watching").hidden = !step.watch;
    $("next").hidden = !(passed(i) && i + 1 < lesson.steps.length);
    renderNav();
    clearInterval(watchTimer);
    if (step.watch && !passed(i)) watchTimer = setInterval(() => check(true), WATCH_EVERY_MS);
  }

  function showHint() {
    const hints = lesson.steps[current].hints_html;
    if (hintsShown >= hints.length) return;
    const item = document.createElement("div");
    item.className = "hint";
    item.innerHTML = hints[hintsShown];
    $("hints").appendChild(item);
    hintsShown += 1;
    const left = hints.length - hintsShown;
    $("hint").textContent = left ? `Another hint (${left})` : "No more hints";
    $("hint").disabled = left === 0;
  }

  // A check's message as a beginner reads it: `code`, **strong** and *emphasis* drawn (as
  // DOM nodes, never HTML from the message), and a long value cut to its first lines with
  // the rest one click away.
  const SHOWN_LINES = 8;
  const INLINE = /(`[^`\n]+`|\*\*[^*\n]+\*\*|\*[^*\s][^*\n]*\*)/;
  function inline(parent, text) {
    for (const part of text.split(INLINE)) {
      if (!part) continue;
      let node;
      if (part.length > 2 && part.startsWith("`") && part.endsWith("`")) {
        node = document.createElement("code");
        node.textContent = part.slice(1, -1);
      } else if (part.length > 4 && part.startsWith("**") && part.endsWith("**")) {
        node = document.createElement("strong");
        node.textContent = part.slice(2, -2);
      } else if (part.length > 2 && part.startsWith("*") && part.endsWith("*")) {
        node = document.createElement("em");
        node.textContent = part.slice(1, -1);
      } else {
        node = document.createTextNode(part);
      }
      parent.appendChild(node);
    }
  }

  function renderMessage(parent, message) {
    const lines = message.split("\n");
    inline(parent, lines.slice(0, SHOWN_LINES).join("\n"));
    if (lines.length <= SHOWN_LINES) return;
    const more = document.createElement("details");
    const summary = document.createElement("summary");
    summary.textContent = `${lines.length - SHOWN_LINES} more line(s)`;
    const rest = document.createElement("pre");
    rest.textContent = lines.slice(SHOWN_LINES).join("\n");
    more.append(summary, rest);
    parent.appendChild(more);
  }

  function renderResults(verdict) {
    const list = $("results");
    list.innerHTML = "";
    verdict.checks.forEach((result) => {
      const item = document.createElement("li");
      item.className = result.passed ? "pass" : "fail";
      const name = document.createElement("strong");
      name.textContent = (result.passed ? "✓ " : "✗ ") + result.name;
      item.appendChild(name);
      if (!result.passed) {
        const why = document.createElement("div");
        renderMessage(why, result.message);
        item.appendChild(why);
      }
      list.appendChild(item);
    });
  }

  async function check(quiet) {
    if (checking) return;
    checking = true;
    const step = current;
    if (!quiet) {
      $("check").disabled = true;
      $("results").innerHTML = '<li class="checking">Checking…</li>';
    }
    try {
      const verdict = await api("POST", `/api/sessions/${sessionId}/check`, { step });
      if (step !== current) return;
      if (!quiet || verdict.passed) renderResults(verdict);
      if (verdict.passed && !passed(step)) {
        lesson.passed_steps.push(step);
        clearInterval(watchTimer);
        $("next").hidden = step + 1 >= lesson.steps.length;
        renderNav();
      }
    } catch (e) {
      if (!quiet) setStatus(`Could not check: ${e.message}`, "bad");
    } finally {
      checking = false;
      $("check").disabled = false;
    }
  }

  async function reset() {
    if (!confirm("Throw this sandbox away and start the lesson's sandbox afresh? Your progress is kept.")) return;
    clearInterval(watchTimer);
    if (terminal) terminal.close();
    await fetch(`/api/sessions/${sessionId}`, { method: "DELETE" });
    localStorage.removeItem(storageKey);
    location.reload();
  }

  const DISMISSED_KEY = "pathshala.announcement.dismissed";
  let shownAnnouncement = null;

  function showAnnouncement(announcement) {
    // One the student closed stays closed, across reloads.
    if (Number(localStorage.getItem(DISMISSED_KEY)) >= announcement.at) return;
    shownAnnouncement = announcement;
    $("announcement-by").textContent = `${announcement.by}:`;
    $("announcement-text").textContent = announcement.text;
    $("announcement").hidden = false;
  }

  function showWatchers() {
    const names = [...new Set(watchers)];
    $("watched").textContent = names.length
      ? `Your instructor ${names.join(" and ")} is watching your terminal (they can see it, not type in it).`
      : "";
    $("watched").hidden = names.length === 0;
  }

  // What the server tells this page beside the terminal's output.
  function onNotice(notice) {
    if (notice.type === "watch") {
      if (notice.watching) {
        watchers.push(notice.by);
      } else if (watchers.includes(notice.by)) {
        watchers.splice(watchers.indexOf(notice.by), 1);
      }
      showWatchers();
    } else if (notice.type === "announcement") {
      showAnnouncement(notice);
    } else if (notice.type === "replaced") {
      // The instructor reset this sandbox: the page moves to the fresh one.
      movingTo = notice.session;
      localStorage.setItem(storageKey, notice.session);
      setStatus(`${notice.by} gave you a fresh sandbox; reloading…`, "warn");
      setTimeout(() => location.reload(), 500);
    }
  }

  async function start() {
    try {
      const session = await openSession();
      sessionId = session.id;
      lesson = session.lesson;
      const firstOpen = lesson.steps.findIndex((_, i) => !passed(i));
      show(firstOpen === -1 ? lesson.steps.length - 1 : firstOpen);
      // The buttons that need the sandbox work from now on.
      for (const id of ["check", "reset", "help"]) $(id).disabled = false;
      terminal = PathshalaTerminal.attach($("terminal"), sessionId, {
        onStatus: setStatus,
        onGone: () => {
          if (!movingTo) localStorage.removeItem(storageKey);
          watchers.length = 0;
          showWatchers();
        },
        onNotice,
        // The server tells a new connection who is watching: start from nobody.
        onOpen: () => {
          watchers.length = 0;
          showWatchers();
        },
      });
    } catch (e) {
      setStatus(`Could not start the lesson: ${e.message}`, "bad");
    }
  }

  $("check").addEventListener("click", () => check(false));
  $("hint").addEventListener("click", showHint);
  $("next").addEventListener("click", () => show(current + 1));
  $("reset").addEventListener("click", reset);
  // Students of a class can tell their instructor they are stuck; others have nobody to tell.
  fetch("/api/me")
    .then((r) => (r.ok ? r.json() : null))
    .then((me) => {
      if (!me || me.role !== "student") return;
      $("help").hidden = false;
      $("recorded").hidden = !me.class.records_terminals;
      if (me.class.announcement) showAnnouncement(me.class.announcement);
    })
    .catch(() => {});
  $("announcement-close").addEventListener("click", () => {
    $("announcement").hidden = true;
    if (shownAnnouncement) localStorage.setItem(DISMISSED_KEY, String(shownAnnouncement.at));
  });
  $("help").addEventListener("click", async () => {
    try {
      const flagged = await api("POST", `/api/sessions/${sessionId}/help`, {});
      $("help-sent").textContent = `Your instructor has been told you are stuck on step ${flagged.step + 1}.`;
    } catch (e) {
      $("help-sent").textContent = `Could not reach your instructor: ${e.message}`;
    }
    $("help-sent").hidden = false;
  });
  start();
})();
