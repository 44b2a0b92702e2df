// Pathshala classroom pages: instructor login, making a class, the class page (its roster
// kept fresh every few seconds), and joining a class as a student. Plain DOM, no framework.
"use strict";

const ROSTER_REFRESH_MS = 5000;

function showError(message) {
  const box = document.getElementById("error");
  box.textContent = message;
  box.hidden = !message;
}

// POSTs JSON and returns the parsed answer, or throws the server's own message.
async function postJson(path, body) {
  const response = await fetch(path, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: body === undefined ? "" : JSON.stringify(body),
    credentials: "same-origin",
  });
  const text = await response.text();
  const data = text ? JSON.parse(text) : null;
  if (!response.ok) {
    throw new Error((data && data.error) || `the server answered ${response.status}`);
  }
  return data;
}

function onSubmit(id, handler) {
  const form = document.getElementById(id);
  if (!form) return;
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    showError("");
    const button = form.querySelector("button[type=submit]");
    button.disabled = true;
    try {
      await handler(form);
    } catch (error) {
      showError(error.message);
    } finally {
      button.disabled = false;
    }
  });
}

onSubmit("login", async () => {
  await postJson("/api/auth/login", {
    name: document.getElementById("name").value,
    password: document.getElementById("password").value,
  });
  const next = new URLSearchParams(location.search).get("next");
  location.href = next && next.startsWith("/") && !next.startsWith("//") ? next : "/classes";
});

const logout = document.getElementById("logout");
if (logout) {
  logout.addEventListener("click", async () => {
    await postJson("/api/auth/logout");
    location.href = "/login";
  });
}

onSubmit("new-class", async (form) => {
  const lessons = [...form.querySelectorAll("input[name=lessons]:checked")].map((i) => i.value);
  if (lessons.length === 0) throw new Error("Choose at least one lesson.");
  const max = document.getElementById("max-students").value;
  const made = await postJson("/api/classes", {
    name: document.getElementById("class-name").value,
    lessons,
    max_students: max ? Number(max) : null,
  });
  location.href = `/classes/${made.id}`;
});

onSubmit("join", async () => {
  const code = document.getElementById("code").value;
  const recovery = document.getElementById("recovery").value.trim();
  const body = recovery
    ? { code, recovery_code: recovery }
    : { code, name: document.getElementById("student-name").value };
  if (!recovery && !body.name.trim()) throw new Error("Type your name, as your instructor knows you.");
  const joined = await postJson("/api/join", body);
  document.getElementById("join").hidden = true;
  document.getElementById("welcome").textContent =
    `Welcome to ${joined.class.name}, ${joined.student.name}!`;
  document.getElementById("recovery-code").textContent = joined.recovery_code;
  document.getElementById("records-note").hidden = !joined.class.records_terminals;
  const first = joined.class.lessons[0];
  if (first) document.getElementById("first-lesson").href = `/lessons/${first}`;
  document.getElementById("joined").hidden = false;
});

// The class page: the roster from the API, refreshed while the page is open.
const classPage = document.getElementById("class-page");
if (classPage) {
  const id = classPage.dataset.class;
  const lessons = JSON.parse(document.getElementById("lessons").textContent);
  const cell = (text, className) => {
    const td = document.createElement("td");
    td.textContent = text;
    if (className) td.className = className;
    return td;
  };
  const render = (klass) => {
    document.getElementById("student-count").textContent = klass.students;
    document.getElementById("join-code").textContent = klass.join_code;
    const rows = klass.roster.map((student) => {
      const tr = document.createElement("tr");
      tr.dataset.student = student.id;
      tr.appendChild(cell(student.name));
      for (const lesson of lessons) {
        const progress = student.lessons[lesson.id] || { passed_steps: [], attempts: 0 };
        const done = progress.passed_steps.length;
        const checks = progress.attempts === 1 ? "1 check" : `${progress.attempts} checks`;
        const text = `${done}/${lesson.steps} steps · ${checks}`;
        tr.appendChild(cell(text, done === lesson.steps ? "done" : ""));
      }
      tr.appendChild(cell(student.recovery_code, "code"));
      return tr;
    });
    document.getElementById("roster").replaceChildren(...rows);
  };
  const refresh = async () => {
    try {
      const response = await fetch(`/api/classes/${id}`, { credentials: "same-origin" });
      if (response.ok) {
        render(await response.json());
        showError("");
      } else {
        showError(`The roster could not be read (${response.status}).`);
      }
    } catch (error) {
      showError("The roster could not be read; retrying.");
    }
  };
  refresh();
  setInterval(refresh, ROSTER_REFRESH_MS);
  document.getElementById("rotate").addEventListener("click", async () => {
    try {
      await postJson(`/api/classes/${id}/join-code`);
      location.reload(); // the QR code shows the new link
    } catch (error) {
      showError(error.message);
    }
  });
}

// The live grid: a snapshot, then rows as they change, from the class's event stream.
// EventSource reconnects by itself after a drop, and each reconnection starts from a
// fresh snapshot.
if (classPage) {
  const id = classPage.dataset.class;
  const status = document.getElementById("live-status");
  const rows = new Map();
  let lessons = [];
  const td = (text, className, title) => {
    const cell = document.createElement("td");
    cell.textContent = text;
    if (className) cell.className = className;
    if (title) cell.title = title;
    return cell;
  };
  const presence = (row) =>
    row.presence === "idle" ? `idle ${row.idle_minutes} min` : row.presence;
  const head = () => {
    const tr = document.createElement("tr");
    tr.appendChild(td("Student"));
    for (const lesson of lessons) {
      lesson.steps.forEach((step, i) => tr.appendChild(td(`${i + 1}`, "step", `${lesson.title}: ${step.title}`)));
    }
    tr.appendChild(td("Now"));
    tr.appendChild(td("Last failure"));
    tr.appendChild(td("Flags"));
    if (window.PathshalaInstructor) tr.appendChild(td("Actions"));
    document.getElementById("live-head").replaceChildren(tr);
  };
  const render = () => {
    const sorted = [...rows.values()].sort(
      (a, b) =>
        b.attention - a.attention ||
        b.failures_in_a_row - a.failures_in_a_row ||
        a.name.localeCompare(b.name),
    );
    const now = Date.now() / 1000;
    const trs = sorted.map((row) => {
      const tr = document.createElement("tr");
      tr.dataset.student = row.id;
      if (row.flags.length) tr.className = "flagged";
      tr.appendChild(td(`${row.name} · ${presence(row)}`, `presence-${row.presence}`));
      for (const lesson of lessons) {
        const cells = row.cells[lesson.id] || [];
        lesson.steps.forEach((step, i) => {
          const cell = cells[i] || { state: "not_started", failures: 0 };
          const text = cell.state === "passed" ? "✓" : cell.state === "failed" ? `✗${cell.failures}` : cell.state === "working" ? "…" : "";
          const failure = row.last_failure;
          const hint =
            failure && failure.lesson === lesson.id && failure.step === i ? failure.message : step.title;
          tr.appendChild(td(text, `cell ${cell.state}`, hint));
        });
      }
      const minutes = row.since ? Math.max(0, Math.floor((now - row.since) / 60)) : null;
      tr.appendChild(td(row.step === null ? "" : `step ${row.step + 1}${minutes === null ? "" : ` · ${minutes} min`}`));
      tr.appendChild(td(row.last_failure ? row.last_failure.message : "", "last-failure"));
      const flags = td(row.flags.map((f) => (f.kind === "help" ? `asked for help` : `stuck: ${f.reason}`)).join("; "), "flags");
      if (row.flags.length) {
        const dismiss = document.createElement("button");
        dismiss.type = "button";
        dismiss.textContent = "Dismiss";
        dismiss.addEventListener("click", async () => {
          if (!confirm(`Clear ${row.name}'s flags on this step?`)) return;
          try {
            await postJson(`/api/classes/${id}/students/${row.id}/dismiss`);
          } catch (error) {
            showError(error.message);
          }
        });
        flags.appendChild(dismiss);
      }
      tr.appendChild(flags);
      if (window.PathshalaInstructor) tr.appendChild(PathshalaInstructor.rowActions(row));
      return tr;
    });
    document.getElementById("live").replaceChildren(...trs);
  };
  const source = new EventSource(`/api/classes/${id}/live`);
  source.addEventListener("open", () => {
    status.textContent = "live";
  });
  source.addEventListener("error", () => {
    status.textContent = "connection lost; reconnecting…";
  });
  source.addEventListener("snapshot", (event) => {
    const snapshot = JSON.parse(event.data);
    lessons = snapshot.lessons;
    rows.clear();
    for (const row of snapshot.students) rows.set(row.id, row);
    head();
    render();
  });
  source.addEventListener("student", (event) => {
    const row = JSON.parse(event.data);
    rows.set(row.id, row);
    render();
  });
  source.addEventListener("check", () => {
    if (window.PathshalaInstructor) PathshalaInstructor.onCheck();
  });
  // Time on a step moves on between events.
  setInterval(render, 30000);
}
