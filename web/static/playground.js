// Pathshala free practice (`/practice`): a sandbox with no lesson, one click away, resumed
// after a reload. On the catalog (`/`) it only points back to a free sandbox still running.
"use strict";

(function () {
  const STORAGE_KEY = "pathshala.session";
  const $ = (id) => document.getElementById(id);
  if (!$("start")) {
    const saved = localStorage.getItem(STORAGE_KEY);
    if (saved && $("resume-practice")) {
      fetch(`/api/sessions/${saved}`).then((response) => {
        $("resume-practice").hidden = !response.ok;
      });
    }
    return;
  }
  let sessionId = null;
  let terminal = null;

  function setStatus(text, kind) {
    const el = $("status");
    el.textContent = text;
    el.className = "status " + (kind || "");
  }

  function showError(text) {
    const el = $("error");
    el.textContent = text;
    el.hidden = !text;
  }

  function open() {
    $("intro").hidden = true;
    $("workspace").hidden = false;
    terminal = PathshalaTerminal.attach($("terminal"), sessionId, {
      onStatus: setStatus,
      onGone: () => localStorage.removeItem(STORAGE_KEY),
    });
  }

  async function start() {
    $("start").disabled = true;
    showError("");
    try {
      const response = await fetch("/api/sessions", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: "{}",
      });
      const body = await response.json();
      if (!response.ok) throw new Error(body.error || `HTTP ${response.status}`);
      sessionId = body.id;
      localStorage.setItem(STORAGE_KEY, sessionId);
      open();
    } catch (e) {
      showError(`Could not start a sandbox: ${e.message}`);
    } finally {
      $("start").disabled = false;
    }
  }

  async function end() {
    if (!sessionId) return;
    if (!confirm("End this sandbox? Its files and programs are deleted.")) return;
    localStorage.removeItem(STORAGE_KEY);
    if (terminal) terminal.close();
    setStatus("Removing sandbox…");
    await fetch(`/api/sessions/${sessionId}`, { method: "DELETE" });
    location.reload();
  }

  $("start").addEventListener("click", start);
  $("end").addEventListener("click", end);

  // Resume: a reload comes back to the same sandbox and shell.
  const saved = localStorage.getItem(STORAGE_KEY);
  if (saved) {
    fetch(`/api/sessions/${saved}`).then((response) => {
      if (response.ok) {
        sessionId = saved;
        open();
      } else {
        localStorage.removeItem(STORAGE_KEY);
      }
    });
  }
})();
