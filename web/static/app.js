// Pathshala playground: start a sandbox, attach a terminal, and keep it attached across
// reloads and dropped connections.
"use strict";

(function () {
  const STORAGE_KEY = "pathshala.session";
  const MAX_RETRY_MS = 10000;
  const $ = (id) => document.getElementById(id);
  const encoder = new TextEncoder();

  let sessionId = null;
  let socket = null;
  let retryMs = 500;
  let ended = false;

  const term = new Terminal({
    cursorBlink: true,
    fontSize: 14,
    fontFamily: "ui-monospace, SFMono-Regular, Menlo, Consolas, monospace",
    theme: { background: "#0d1117" },
    scrollback: 5000,
  });
  const fit = new FitAddon.FitAddon();
  term.loadAddon(fit);

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

  // The server takes messages of up to 64 KiB; a big paste goes in pieces.
  const CHUNK = 16 * 1024;
  function send(data) {
    if (!socket || socket.readyState !== WebSocket.OPEN) return;
    if (typeof data === "string" || data.length <= CHUNK) {
      socket.send(data);
      return;
    }
    for (let i = 0; i < data.length; i += CHUNK) socket.send(data.subarray(i, i + CHUNK));
  }

  function sendResize() {
    send(JSON.stringify({ type: "resize", cols: term.cols, rows: term.rows }));
  }

  function showWorkspace() {
    $("intro").hidden = true;
    $("workspace").hidden = false;
    if (!term.element) term.open($("terminal"));
    fit.fit();
    term.focus();
  }

  function connect() {
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    socket = new WebSocket(`${scheme}//${location.host}/api/sessions/${sessionId}/terminal`);
    socket.binaryType = "arraybuffer";
    socket.onopen = () => {
      retryMs = 500;
      setStatus("Connected", "ok");
      sendResize();
    };
    socket.onmessage = (event) => {
      if (typeof event.data !== "string") {
        term.write(new Uint8Array(event.data));
        return;
      }
      const message = JSON.parse(event.data);
      if (message.type === "ended") {
        ended = true;
        setStatus(`Sandbox ended: ${message.reason}`, "bad");
      } else if (message.type === "error") {
        console.warn("pathshala:", message.message);
      }
    };
    socket.onclose = () => {
      socket = null;
      if (ended) return;
      setStatus(`Connection lost; reconnecting in ${Math.round(retryMs / 1000)} s…`, "warn");
      setTimeout(reattach, retryMs);
      retryMs = Math.min(retryMs * 2, MAX_RETRY_MS);
    };
  }

  // Reconnects if the session still exists; otherwise offers a new one.
  async function reattach() {
    let response;
    try {
      response = await fetch(`/api/sessions/${sessionId}`);
    } catch (e) {
      setStatus("Server unreachable; retrying…", "warn");
      setTimeout(reattach, retryMs);
      retryMs = Math.min(retryMs * 2, MAX_RETRY_MS);
      return;
    }
    if (response.ok) {
      connect();
    } else {
      forget();
      setStatus("This sandbox no longer exists. Start a new one from the home page.", "bad");
    }
  }

  function forget() {
    ended = true;
    sessionId = null;
    localStorage.removeItem(STORAGE_KEY);
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
      ended = false;
      showWorkspace();
      connect();
    } catch (e) {
      showError(`Could not start a sandbox: ${e.message}`);
    } finally {
      $("start").disabled = false;
    }
  }

  async function end() {
    if (!sessionId) return;
    const id = sessionId;
    forget();
    if (socket) socket.close();
    setStatus("Removing sandbox…");
    await fetch(`/api/sessions/${id}`, { method: "DELETE" });
    location.reload();
  }

  term.onData((data) => send(encoder.encode(data)));
  term.onBinary((data) => send(Uint8Array.from(data, (c) => c.charCodeAt(0))));
  term.onResize(sendResize);
  window.addEventListener("resize", () => term.element && fit.fit());
  $("start").addEventListener("click", start);
  $("end").addEventListener("click", end);

  // Resume: a reload comes back to the same sandbox and shell.
  const saved = localStorage.getItem(STORAGE_KEY);
  if (saved) {
    sessionId = saved;
    fetch(`/api/sessions/${saved}`).then((response) => {
      if (response.ok) {
        showWorkspace();
        connect();
      } else {
        forget();
      }
    });
  }
})();
