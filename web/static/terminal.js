// Pathshala terminal: xterm.js attached to a session's shell over a WebSocket, reconnecting
// by itself after a dropped connection or a server restart (the shell and screen survive).
// Honest about the link: a heartbeat says "no answer for N s" within seconds of a stall;
// keys typed while the link is down are held (and shown) and sent when it is back; the
// browser coming back online, or "Retry now", reconnects at once.
// With `watch: true`, an instructor's read-only view of a student's terminal: nothing typed
// is sent (and the server drops it anyway).
"use strict";

window.PathshalaTerminal = (function () {
  const MAX_RETRY_MS = 10000;
  // The page pings this often; an answer later than STALL_MS means the link has stalled.
  const HEARTBEAT_MS = 2000;
  const STALL_MS = 3000;
  // A link silent this long is given up on and dialled again.
  const DEAD_MS = 30000;
  // Keys held while the link is down, at most (beyond, they are refused, visibly).
  const MAX_HELD_BYTES = 4096;
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
    let retryTimer = null;
    let lastHeard = Date.now();
    let held = [];
    let heldBytes = 0;
    let refused = 0;
    let linkNote = "";

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

    // The link's state over the terminal: what is wrong, keys held, and "Retry now".
    const banner = document.createElement("div");
    banner.className = "link-banner";
    banner.setAttribute("role", "status");
    banner.hidden = true;
    const bannerText = document.createElement("span");
    const retryButton = document.createElement("button");
    retryButton.type = "button";
    retryButton.textContent = "Retry now";
    retryButton.addEventListener("click", () => retryNow());
    banner.append(bannerText, retryButton);
    element.style.position = "relative";
    element.appendChild(banner);

    function showLink() {
      const parts = [];
      if (linkNote) parts.push(linkNote);
      if (heldBytes) parts.push(`${heldBytes} typed character(s) held; they are sent when the link is back`);
      if (refused) parts.push(`${refused} more were not sent (too many while the link was down)`);
      bannerText.textContent = parts.join(" · ");
      banner.hidden = parts.length === 0;
      retryButton.hidden = !linkNote || healthy();
    }

    function healthy() {
      return socket && socket.readyState === WebSocket.OPEN && Date.now() - lastHeard < STALL_MS;
    }

    function write(data) {
      if (typeof data === "string" || data.length <= CHUNK) {
        socket.send(data);
        return;
      }
      for (let i = 0; i < data.length; i += CHUNK) socket.send(data.subarray(i, i + CHUNK));
    }

    function send(data) {
      if (watching) return;
      if (healthy() && held.length === 0) {
        write(data);
        return;
      }
      if (typeof data === "string") {
        // A control message (a resize) is sent on reconnection anyway.
        if (socket && socket.readyState === WebSocket.OPEN) socket.send(data);
        return;
      }
      // The link is down or stalled: hold the keys, and say so, instead of losing them.
      if (heldBytes + data.length > MAX_HELD_BYTES) {
        refused += data.length;
      } else {
        held.push(data);
        heldBytes += data.length;
      }
      showLink();
    }

    function flushHeld() {
      if (!healthy()) return;
      const keys = held;
      held = [];
      heldBytes = 0;
      refused = 0;
      for (const data of keys) write(data);
      showLink();
    }

    function heard() {
      const wasStalled = Date.now() - lastHeard >= STALL_MS;
      lastHeard = Date.now();
      if (wasStalled || linkNote) {
        linkNote = "";
        onStatus(watching ? "Watching (read-only)" : "Connected", "ok");
      }
      flushHeld();
    }

    // The heartbeat: ping, and tell the learner as soon as answers stop coming.
    const heartbeat = setInterval(() => {
      if (stopped || !socket || socket.readyState !== WebSocket.OPEN) return;
      socket.send(JSON.stringify({ type: "ping" }));
      const silent = Date.now() - lastHeard;
      if (silent >= DEAD_MS) {
        socket.close(); // reconnects through onclose
      } else if (silent >= STALL_MS) {
        linkNote = `No answer from the server for ${Math.round(silent / 1000)} s`;
        onStatus(`${linkNote}; waiting…`, "warn");
        showLink();
      }
    }, HEARTBEAT_MS / 2);

    function sendResize() {
      send(JSON.stringify({ type: "resize", cols: term.cols, rows: term.rows }));
    }

    function retryLater(text) {
      linkNote = `${text}; reconnecting in ${Math.round(retryMs / 1000)} s`;
      onStatus(`${linkNote}…`, "warn");
      showLink();
      clearTimeout(retryTimer);
      retryTimer = setTimeout(reattach, retryMs);
      retryMs = Math.min(retryMs * 2, MAX_RETRY_MS);
    }

    // "Retry now", or the browser back online: no waiting for the backoff.
    function retryNow() {
      if (stopped) return;
      if (socket && socket.readyState === WebSocket.OPEN) {
        socket.close(); // a stalled link: dial again
        return;
      }
      if (socket) return; // already connecting
      clearTimeout(retryTimer);
      retryMs = 500;
      reattach();
    }
    window.addEventListener("online", retryNow);

    function connect() {
      const scheme = location.protocol === "https:" ? "wss:" : "ws:";
      const query = watching ? "?watch=1" : "";
      socket = new WebSocket(`${scheme}//${location.host}/api/sessions/${sessionId}/terminal${query}`);
      socket.binaryType = "arraybuffer";
      socket.onopen = () => {
        retryMs = 500;
        opened = true;
        lastHeard = Date.now();
        linkNote = "";
        onOpen();
        onStatus(watching ? "Watching (read-only)" : "Connected", "ok");
        sendResize();
        flushHeld();
      };
      socket.onmessage = (event) => {
        heard();
        if (typeof event.data !== "string") {
          term.write(new Uint8Array(event.data));
          return;
        }
        const message = JSON.parse(event.data);
        if (message.type === "ended") {
          stopped = true;
          onStatus(`Sandbox ended: ${message.reason}`, "bad");
          onGone();
        } else if (message.type === "pong") {
          // the heartbeat's answer: heard() above noted it
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
        clearInterval(heartbeat);
        clearTimeout(retryTimer);
        window.removeEventListener("online", retryNow);
        if (socket) socket.close();
        term.dispose();
      },
    };
  }

  return { attach };
})();
