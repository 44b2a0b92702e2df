// Pathshala class page, the instructor's tools beside the live grid: watch a student's
// terminal read-only, replay their recordings, act on their sandboxes (each action asks
// first), speak to the class, the failure heatmap, and the log of watches and actions.
// Uses postJson and showError from classroom.js, which loads first.
"use strict";

window.PathshalaInstructor = (function () {
  const page = document.getElementById("class-page");
  if (!page) return null;
  const classId = page.dataset.class;
  const $ = (id) => document.getElementById(id);
  const EXTEND_MINUTES = 30;
  const LOG_REFRESH_MS = 30000;
  let watcher = null;
  let player = null;

  function el(tag, text, className) {
    const node = document.createElement(tag);
    if (text !== undefined) node.textContent = text;
    if (className) node.className = className;
    return node;
  }

  function button(text, title, onClick) {
    const b = el("button", text);
    b.type = "button";
    if (title) b.title = title;
    b.addEventListener("click", onClick);
    return b;
  }

  function said(text) {
    $("action-status").textContent = text;
  }

  // Asks first, then does it, and says what happened.
  async function act(question, path, body, done) {
    if (!confirm(question)) return;
    try {
      const answer = await postJson(path, body);
      said(done(answer));
      showError("");
    } catch (error) {
      showError(error.message);
    }
    refreshLogs();
  }

  const time = (unix) => new Date(unix * 1000).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  const duration = (seconds) => `${Math.floor(seconds / 60)}:${String(seconds % 60).padStart(2, "0")}`;

  // The buttons of one row of the live grid.
  function rowActions(row) {
    const cell = el("td", undefined, "row-actions");
    const student = `/api/classes/${classId}/students/${row.id}`;
    for (const sandbox of row.sandboxes) {
      const label = row.sandboxes.length > 1 ? `Watch ${sandbox.lesson || "practice"}` : "Watch";
      cell.appendChild(button(label, `Watch ${row.name}'s terminal, read-only`, () => watch(row, sandbox)));
    }
    cell.appendChild(button("Replay", `${row.name}'s recorded terminals`, () => replay(row)));
    if (row.sandboxes.length === 0) return cell;
    const current = row.sandboxes.find((s) => s.lesson === row.lesson) || row.sandboxes[0];
    if (current.lesson) {
      cell.appendChild(
        button("Reset", "A fresh sandbox of this lesson; progress is kept", () =>
          act(
            `Give ${row.name} a fresh sandbox of ${current.lesson}? Their files there are lost; their progress is kept.`,
            `${student}/reset`,
            { lesson: current.lesson },
            () => `${row.name} has a fresh sandbox of ${current.lesson}.`,
          ),
        ),
      );
    }
    cell.appendChild(
      button("Restart", "Reboot the sandbox; files stay", () =>
        act(`Restart ${row.name}'s sandbox? Running programs stop; files stay.`, `${student}/restart`, {}, () => `${row.name}'s sandbox restarted.`),
      ),
    );
    cell.appendChild(
      button(`+${EXTEND_MINUTES} min`, "Let the sandbox live longer", () =>
        act(`Give ${row.name}'s sandbox ${EXTEND_MINUTES} more minutes?`, `${student}/extend`, { minutes: EXTEND_MINUTES }, () => `${row.name}'s sandbox lives ${EXTEND_MINUTES} minutes longer.`),
      ),
    );
    cell.appendChild(
      button("End", "End the sandbox; progress is kept", () =>
        act(`End ${row.name}'s sandbox now? Their progress is kept.`, `${student}/end`, {}, () => `${row.name}'s sandbox ended.`),
      ),
    );
    return cell;
  }

  function stopWatching() {
    if (watcher) watcher.close();
    watcher = null;
    $("watch-panel").hidden = true;
    refreshLogs();
  }

  function watch(row, sandbox) {
    stopWatching();
    $("watch-panel").hidden = false;
    $("watch-title").textContent = `Watching ${row.name}${sandbox.lesson ? ` · ${sandbox.lesson}` : ""} (read-only; they see that you are watching)`;
    watcher = PathshalaTerminal.attach($("watch-terminal"), sandbox.id, {
      watch: true,
      onStatus: (text) => {
        $("watch-status").textContent = text;
      },
    });
    $("watch-panel").scrollIntoView({ block: "nearest" });
    setTimeout(refreshLogs, 500);
  }

  async function replay(row) {
    $("replay-panel").hidden = false;
    $("replay-title").textContent = `${row.name}'s recorded terminals`;
    const list = $("replay-list");
    list.replaceChildren(el("li", "Loading…"));
    try {
      const response = await fetch(`/api/classes/${classId}/students/${row.id}/recordings`);
      const data = await response.json();
      if (!response.ok) throw new Error(data.error || `HTTP ${response.status}`);
      if (data.recordings.length === 0) {
        list.replaceChildren(el("li", "Nothing recorded yet (or this class does not record terminals)."));
        return;
      }
      list.replaceChildren(
        ...data.recordings.map((recording) => {
          const item = el("li");
          const size = `${Math.max(1, Math.round(recording.bytes / 1024))} KB`;
          const when = `${recording.lesson || "practice"} · from ${time(recording.started_at)}${recording.ended_at ? ` to ${time(recording.ended_at)} · ${size}` : " · going on"}${recording.truncated ? " · stopped at its size limit" : ""}`;
          item.appendChild(el("span", when));
          item.appendChild(button("Play", "Replay it here; markers are check runs", () => play(recording.url)));
          const download = el("a", "Download .cast");
          download.href = recording.url;
          download.setAttribute("download", "");
          item.appendChild(download);
          return item;
        }),
      );
    } catch (error) {
      list.replaceChildren(el("li", `Could not list the recordings: ${error.message}`));
    }
  }

  function play(url) {
    if (player) player.dispose();
    $("replay-player").replaceChildren();
    // Twice as fast: an instructor skims; markers (check runs) show on the progress bar.
    player = AsciinemaPlayer.create(url, $("replay-player"), { fit: "width", speed: 2, autoPlay: true });
  }

  async function refreshHeatmap() {
    try {
      const response = await fetch(`/api/classes/${classId}/heatmap`);
      if (!response.ok) return;
      const data = await response.json();
      const rows = [];
      for (const lesson of data.lessons) {
        lesson.steps.forEach((step, i) => {
          const tr = el("tr");
          tr.dataset.lesson = lesson.id;
          tr.dataset.step = i;
          tr.appendChild(el("td", `${lesson.title || lesson.id} · ${i + 1}. ${step.title || ""}`));
          tr.appendChild(el("td", String(step.attempted), "attempted"));
          tr.appendChild(el("td", String(step.passed), "passed-count"));
          tr.appendChild(el("td", step.median_seconds_to_pass === null ? "" : duration(step.median_seconds_to_pass)));
          const failures = el("td", undefined, "top-failures");
          for (const failure of step.top_failures) {
            const line = el("div", `×${failure.count} ${failure.message}`);
            line.dataset.count = failure.count;
            failures.appendChild(line);
          }
          tr.appendChild(failures);
          if (step.attempted > 0 && step.passed < step.attempted) tr.className = "troubled";
          rows.push(tr);
        });
      }
      $("heatmap").replaceChildren(...rows);
    } catch (error) {
      /* the next check event tries again */
    }
  }

  let heatmapTimer = null;
  // A check run changes the heatmap; many at once refresh it once.
  function onCheck() {
    clearTimeout(heatmapTimer);
    heatmapTimer = setTimeout(refreshHeatmap, 1000);
  }

  async function refreshLogs() {
    try {
      const [watches, actions] = await Promise.all(
        ["watches", "actions"].map((kind) => fetch(`/api/classes/${classId}/${kind}`).then((r) => (r.ok ? r.json() : null))),
      );
      if (watches) {
        $("watch-log").replaceChildren(
          ...watches.watches.map((w) =>
            el("li", `${time(w.started_at)} ${w.instructor} watched ${w.student_name}${w.lesson ? ` (${w.lesson})` : ""} for ${duration(w.seconds)}${w.open ? ", still watching" : ""}`),
          ),
        );
      }
      if (actions) {
        $("action-log").replaceChildren(
          ...actions.actions.map((a) =>
            el("li", `${time(a.at)} ${a.instructor}: ${a.action}${a.student_name ? ` ${a.student_name}` : ""} · ${a.detail}`),
          ),
        );
      }
    } catch (error) {
      /* shown again on the next refresh */
    }
  }

  $("watch-close").addEventListener("click", stopWatching);
  $("replay-close").addEventListener("click", () => {
    if (player) player.dispose();
    player = null;
    $("replay-player").replaceChildren();
    $("replay-panel").hidden = true;
  });
  $("extend-all").addEventListener("click", () =>
    act(`Give every student's sandbox ${EXTEND_MINUTES} more minutes?`, `/api/classes/${classId}/extend`, { minutes: EXTEND_MINUTES }, (a) => `${a.sessions.length} sandbox(es) live ${EXTEND_MINUTES} minutes longer.`),
  );
  $("end-all").addEventListener("click", () =>
    act("End every student's sandbox now? Their progress is kept.", `/api/classes/${classId}/end-all`, {}, (a) => `${a.sessions.length} sandbox(es) ended.`),
  );
  $("announce").addEventListener("submit", (event) => {
    event.preventDefault();
    const text = $("announce-text").value.trim();
    if (!text) return;
    act(`Show "${text}" on every student's lesson page?`, `/api/classes/${classId}/announce`, { text }, (a) => {
      $("announce-text").value = "";
      return `Announced to ${a.sessions} open sandbox(es).`;
    });
  });
  $("record-terminals").addEventListener("change", async (event) => {
    const on = event.target.checked;
    const question = on ? "Record students' terminals from their next opening?" : "Stop recording students' terminals (recordings so far are kept)?";
    if (!confirm(question)) {
      event.target.checked = !on;
      return;
    }
    try {
      await postJson(`/api/classes/${classId}/recording`, { on });
      said(on ? "Terminals are recorded." : "Terminals are no longer recorded.");
    } catch (error) {
      event.target.checked = !on;
      showError(error.message);
    }
    refreshLogs();
  });
  refreshHeatmap();
  refreshLogs();
  setInterval(refreshLogs, LOG_REFRESH_MS);
  // The player on screen, if any (its controls are the player's own).
  const replaying = () => player;
  return { rowActions, onCheck, replaying };
})();
