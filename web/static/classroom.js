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
