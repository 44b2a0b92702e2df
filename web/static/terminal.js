// Pathshala terminal: xterm.js attached to a session's shell over a WebSocket, reconnecting
// by itself after a dropped connection or a server restart (the shell and screen survive).
// With `watch: true`, an instructor's read-only view of a student's terminal: nothing typed
// is sent (and the server drops it anyway).
"use strict";

window.PathshalaTerminal = (function () {
  const MAX_RETRY_MS = 10000;
  // The server takes messages of up to 64 KiB; a big paste goes in pieces.
  const CHUNK = 16 * 1024;
  const encoder = new TextEncoder();

  function attach(element, sessionId, hooks) {
    const onStatus = hooks.onStatus || (() => {});
    const onGone = hooks.onGone || (() => {});
    // Notices from the server: an instructor watching, an announcement, a replaced sandbox.
    const onNotice = hooks.onNotice || (() => {});
    // Called on each (re)connection, before the server's first messages.
    const onOpen = hooks.onOpen || (() => {});
    const watching = Boolean(hooks.watch);
    let opened = false;
    let socket = null;
    let retryMs = 500;
    let stopped = false;

    const term = new Terminal({
      cursorBlink: true,
      fontSize: 14,
      // At 1.0, the DOM renderer clips underscores with common Linux fonts (TUITION_PORT
      // reads as "TUITION PORT"); a little more height keeps them visible.
      lineHeight: 1.2,
      fontFamily: "ui-monospace, SFMono-Regular, Menlo, Consolas, monospace",
      theme: { background: "#0d1117" },
      scrollback: 5000,
      disableStdin: watching,
    });
    const fit = new FitAddon.FitAddon();
    term.loadAddon(fit);
    term.open(element);
    fit.fit();
    if (!watching) term.focus();

    function send(data) {
      if (watching || !socket || socket.readyState !== WebSocket.OPEN) return;
      if (typeof data === "string" || data.length <= CHUNK) {
        socket.send(data);
        return;
      }
      for (let i = 0; i < data.length; i += CHUNK) socket.send(data.subarray(i, i + CHUNK));
    }

    function sendResize() {
      send(JSON.stringify({ type: "resize", cols: term.cols, rows: term.rows }));
    }

    function retryLater(text) {
      onStatus(`${text}; reconnecting in ${Math.round(retryMs / 1000)} s…`, "warn");
      setTimeout(reattach, retryMs);
      retryMs = Math.min(retryMs * 2, MAX_RETRY_MS);
    }

    function connect() {
      const scheme = location.protocol === "https:" ? "wss:" : "ws:";
      const query = watching ? "?watch=1" : "";
      socket = new WebSocket(`${scheme}//${location.host}/api/sessions/${sessionId}/terminal${query}`);
      socket.binaryType = "arraybuffer";
      socket.onopen = () => {
        retryMs = 500;
        opened = true;
        onOpen();
        onStatus(watching ? "Watching (read-only)" : "Connected", "ok");
        sendResize();
      };
      socket.onmessage = (event) => {
        if (typeof event.data !== "string") {
          term.write(new Uint8Array(event.data));
          return;
        }
        const message = JSON.parse(event.data);
        if (message.type === "ended") {
          stopped = true;
          onStatus(`Sandbox ended: ${message.reason}`, "bad");
          onGone();
        } else if (message.type === "error") {
          console.warn("pathshala:", message.message);
        } else if (message.type === "size" && watching) {
          // A watcher sees the student's terminal at the student's size.
          term.resize(message.cols, message.rows);
        } else {
          onNotice(message);
        }
      };
      socket.onclose = () => {
        socket = null;
        if (watching && !opened) {
          // Refused (not your class) or the sandbox is gone: retrying will not help.
          stopped = true;
          onStatus("Cannot watch this terminal: it has ended, or it is not in your class.", "bad");
          return;
        }
        if (!stopped) retryLater("Connection lost");
      };
    }

    // Reconnects if the session still exists; otherwise says so.
    async function reattach() {
      if (stopped) return;
      if (watching) {
        connect(); // an instructor cannot look the session up as its owner does
        return;
      }
      let response;
      try {
        response = await fetch(`/api/sessions/${sessionId}`);
      } catch (e) {
        retryLater("Server unreachable");
        return;
      }
      if (response.ok) {
        connect();
      } else {
        stopped = true;
        onStatus("This sandbox no longer exists.", "bad");
        onGone();
      }
    }

    term.onData((data) => send(encoder.encode(data)));
    term.onBinary((data) => send(Uint8Array.from(data, (c) => c.charCodeAt(0))));
    term.onResize(sendResize);
    window.addEventListener("resize", () => {
      if (!watching) fit.fit();
    });
    connect();

    return {
      // Types text into the shell, as if the learner had.
      type(text) {
        send(encoder.encode(text));
        term.focus();
      },
      close() {
        stopped = true;
        if (socket) socket.close();
        term.dispose();
      },
    };
  }

  return { attach };
})();
