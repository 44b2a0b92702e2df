#!/usr/bin/env python3
"""Kathmandu Tuition Centre: students, fees and exam results.

The web app Pathshala's lessons deploy, break and repair. Python's standard library only,
so it runs on any server with python3 and no internet. Settings come from the environment:

  TUITION_SECRET_KEY  required; admin requests send it as `Authorization: Bearer <key>`
  TUITION_PORT        port to listen on (default 8000)
  TUITION_BIND        address to listen on (default 127.0.0.1)
  TUITION_DB          SQLite database file (default /var/lib/tuition/tuition.db)
  TUITION_LOG_FILE    append logs here instead of standard output (reopened after rotation)
  TUITION_CENTRE      the name shown on the pages (default Kathmandu Tuition Centre)

Commands: `app.py serve` (the default), `app.py init-db`, `app.py check-config`,
`app.py --version`. Tests: `python3 -m unittest` in this folder."""

import html
import json
import logging
import logging.handlers
import os
import sqlite3
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

HERE = os.path.dirname(os.path.abspath(__file__))
EX_CONFIG = 78
SUBJECTS = ("English", "Nepali", "Mathematics", "Science", "Social Studies")
STUDENTS = (
    ("Aarati Shrestha", 10), ("Bibek Maharjan", 10), ("Chandani Tamang", 9),
    ("Dipesh Karki", 10), ("Elina Gurung", 8), ("Gaurav Adhikari", 9),
    ("Hari Bhandari", 10), ("Isha Rai", 8), ("Jeevan Thapa", 9),
    ("Kabita Magar", 10), ("Laxmi Pandey", 8), ("Manish Shakya", 9),
    ("Nabin Basnet", 10), ("Ojaswi Joshi", 8), ("Pratik Lama", 9),
    ("Rojina Khadka", 10), ("Sagar Poudel", 8), ("Sushma KC", 9),
    ("Tenzing Sherpa", 10), ("Upasana Ghimire", 8),
)
MONTHLY_FEE = {8: 3500, 9: 4000, 10: 4500}
MONTHS = ("Baisakh", "Jestha", "Asar")

log = logging.getLogger("tuition")


class ConfigError(Exception):
    """A setting is missing or wrong; the message says which and how to fix it."""


def version():
    with open(os.path.join(HERE, "VERSION"), encoding="utf-8") as f:
        return f.read().strip()


def load_config(env=None):
    env = os.environ if env is None else env
    secret = env.get("TUITION_SECRET_KEY", "")
    if not secret:
        raise ConfigError("TUITION_SECRET_KEY is not set; the app will not start without it")
    if len(secret) < 12:
        raise ConfigError("TUITION_SECRET_KEY is too short: use at least 12 characters")
    raw_port = env.get("TUITION_PORT", "8000")
    try:
        port = int(raw_port)
    except ValueError:
        port = 0
    if not 1 <= port <= 65535:
        raise ConfigError(f"TUITION_PORT must be a port number (1-65535), not {raw_port!r}")
    return {
        "secret": secret,
        "port": port,
        "bind": env.get("TUITION_BIND", "127.0.0.1"),
        "db": env.get("TUITION_DB", "/var/lib/tuition/tuition.db"),
        "log_file": env.get("TUITION_LOG_FILE", ""),
        "centre": env.get("TUITION_CENTRE", "Kathmandu Tuition Centre"),
    }


# --- the data ----------------------------------------------------------------------------

SCHEMA = """
CREATE TABLE IF NOT EXISTS students (
    roll INTEGER PRIMARY KEY, name TEXT NOT NULL, grade INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS fees (
    id INTEGER PRIMARY KEY, roll INTEGER NOT NULL REFERENCES students(roll),
    month TEXT NOT NULL, amount INTEGER NOT NULL, paid INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS results (
    roll INTEGER NOT NULL REFERENCES students(roll), subject TEXT NOT NULL,
    marks INTEGER NOT NULL, PRIMARY KEY (roll, subject));
"""


def connect(path):
    """Opens the database; never creates a missing file (that is init-db's job)."""
    try:
        os.stat(path)
    except FileNotFoundError:
        raise sqlite3.OperationalError(f"no database at {path} (run: app.py init-db)") from None
    except PermissionError:
        raise sqlite3.OperationalError(
            f"cannot reach the database {path}: permission denied on its folder"
        ) from None
    db = sqlite3.connect(f"file:{path}?mode=rw", uri=True, timeout=5)
    db.row_factory = sqlite3.Row
    return db


def init_db(path):
    """Creates the tables and, in an empty database, the centre's students and records."""
    folder = os.path.dirname(path)
    if folder:
        os.makedirs(folder, exist_ok=True)
    db = sqlite3.connect(path)
    with db:
        db.executescript(SCHEMA)
        if db.execute("SELECT COUNT(*) FROM students").fetchone()[0] == 0:
            for roll, (name, grade) in enumerate(STUDENTS, start=1):
                db.execute("INSERT INTO students VALUES (?, ?, ?)", (roll, name, grade))
                for i, month in enumerate(MONTHS):
                    paid = 1 if (roll + i) % 4 else 0
                    db.execute(
                        "INSERT INTO fees (roll, month, amount, paid) VALUES (?, ?, ?, ?)",
                        (roll, month, MONTHLY_FEE[grade], paid),
                    )
                for j, subject in enumerate(SUBJECTS):
                    marks = 35 + (roll * 7 + j * 13) % 63
                    db.execute("INSERT INTO results VALUES (?, ?, ?)", (roll, subject, marks))
    count = db.execute("SELECT COUNT(*) FROM students").fetchone()[0]
    db.close()
    return count


def division(percent):
    """The SEE-style division for a percentage."""
    if percent >= 80:
        return "Distinction"
    if percent >= 60:
        return "First division"
    if percent >= 45:
        return "Second division"
    if percent >= 32:
        return "Third division"
    return "Not passed"


def result_of(db, roll):
    student = db.execute("SELECT * FROM students WHERE roll = ?", (roll,)).fetchone()
    if student is None:
        return None
    rows = db.execute(
        "SELECT subject, marks FROM results WHERE roll = ? ORDER BY subject", (roll,)
    ).fetchall()
    marks = {r["subject"]: r["marks"] for r in rows}
    percent = round(sum(marks.values()) / len(marks), 2) if marks else 0.0
    return {
        "roll": roll,
        "name": student["name"],
        "grade": student["grade"],
        "marks": marks,
        "percent": percent,
        "division": division(percent),
    }


def fees_due(db):
    rows = db.execute(
        "SELECT f.id, f.roll, s.name, f.month, f.amount FROM fees f "
        "JOIN students s ON s.roll = f.roll WHERE f.paid = 0 ORDER BY f.roll, f.id"
    ).fetchall()
    return [dict(r) for r in rows]


# --- the web app -------------------------------------------------------------------------

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>body{{font-family:sans-serif;max-width:46rem;margin:2rem auto;padding:0 1rem}}
table{{border-collapse:collapse}}td,th{{border:1px solid #ccc;padding:.3rem .6rem}}
footer{{color:#666;margin-top:2rem}}</style></head>
<body><h1>{title}</h1>{body}<footer>{centre} · version {version}</footer></body></html>
"""


class Handler(BaseHTTPRequestHandler):
    server_version = "tuition"
    config = {}

    # Routing -------------------------------------------------------------------------
    def do_GET(self):
        self.route("GET")

    def do_POST(self):
        self.route("POST")

    def do_HEAD(self):
        # As GET, without the body (send() leaves it out): `curl -I` works.
        self.route("GET")

    def route(self, method):
        self.started = time.monotonic()
        url = urlsplit(self.path)
        query = parse_qs(url.query)
        parts = [p for p in url.path.split("/") if p]
        try:
            if method == "GET" and parts == []:
                return self.home()
            if method == "GET" and parts == ["health"]:
                return self.health()
            if method == "GET" and parts == ["students"]:
                return self.students_page()
            if method == "GET" and parts == ["results"]:
                return self.results_page(query.get("roll", [""])[0])
            if parts[:1] == ["api"]:
                return self.api(method, parts[1:])
            self.send_error_page(404, "No such page")
        except sqlite3.Error as e:
            log.error("database error on %s %s: %s", method, url.path, e)
            self.send_json(500, {"error": "database error", "detail": str(e)})

    def api(self, method, parts):
        if method == "GET" and parts == ["students"]:
            with connect(self.config["db"]) as db:
                rows = db.execute("SELECT * FROM students ORDER BY roll").fetchall()
            return self.send_json(200, [dict(r) for r in rows])
        if method == "GET" and parts == ["fees", "due"]:
            with connect(self.config["db"]) as db:
                return self.send_json(200, fees_due(db))
        if method == "GET" and len(parts) == 2 and parts[0] == "results":
            return self.result_json(parts[1])
        if method == "POST" and parts == ["students"]:
            return self.add_student()
        if method == "POST" and len(parts) == 3 and parts[0] == "fees" and parts[2] == "pay":
            return self.pay_fee(parts[1])
        self.send_json(404, {"error": "no such endpoint"})

    # Pages ---------------------------------------------------------------------------
    def home(self):
        with connect(self.config["db"]) as db:
            students = db.execute("SELECT COUNT(*) FROM students").fetchone()[0]
            due = len(fees_due(db))
        body = (
            f"<p>{students} students enrolled · {due} monthly fees due.</p>"
            '<ul><li><a href="students">Students</a></li>'
            '<li><a href="results">Exam results</a></li>'
            '<li><a href="health">Health</a></li></ul>'
        )
        self.send_page(200, self.config["centre"], body)

    def health(self):
        try:
            with connect(self.config["db"]) as db:
                students = db.execute("SELECT COUNT(*) FROM students").fetchone()[0]
        except sqlite3.Error as e:
            log.error("health check failed: database: %s", e)
            return self.send_json(503, {"status": "error", "database": str(e), "version": version()})
        self.send_json(200, {"status": "ok", "database": "ok", "students": students, "version": version()})

    def students_page(self):
        with connect(self.config["db"]) as db:
            rows = db.execute("SELECT * FROM students ORDER BY roll").fetchall()
        cells = "".join(
            f"<tr><td>{r['roll']}</td><td>{html.escape(r['name'])}</td><td>{r['grade']}</td></tr>"
            for r in rows
        )
        body = f"<table><tr><th>Roll</th><th>Name</th><th>Grade</th></tr>{cells}</table>"
        self.send_page(200, "Students", body)

    def results_page(self, roll):
        form = '<form><label>Roll number <input name="roll"></label> <button>Show</button></form>'
        if not roll:
            return self.send_page(200, "Exam results", form)
        result = self.lookup(roll)
        if result is None:
            return self.send_page(404, "Exam results", form + f"<p>No student with roll {html.escape(roll)}.</p>")
        rows = "".join(f"<tr><td>{s}</td><td>{m}</td></tr>" for s, m in result["marks"].items())
        body = (
            f"{form}<h2>{html.escape(result['name'])} (roll {result['roll']})</h2>"
            f"<table>{rows}</table><p>{result['percent']}% · <strong>{result['division']}</strong></p>"
        )
        self.send_page(200, "Exam results", body)

    def result_json(self, roll):
        result = self.lookup(roll)
        if result is None:
            return self.send_json(404, {"error": f"no student with roll {roll}"})
        self.send_json(200, result)

    def lookup(self, roll):
        if not roll.isdigit():
            return None
        with connect(self.config["db"]) as db:
            return result_of(db, int(roll))

    # Admin ---------------------------------------------------------------------------
    def authorized(self):
        if self.headers.get("Authorization", "") == "Bearer " + self.config["secret"]:
            return True
        log.warning("refused an admin request from %s: wrong or missing key", self.client())
        self.send_json(401, {"error": "send Authorization: Bearer <TUITION_SECRET_KEY>"})
        return False

    def read_json(self):
        length = int(self.headers.get("Content-Length") or 0)
        try:
            return json.loads(self.rfile.read(min(length, 65536)) or b"{}")
        except ValueError:
            return None

    def add_student(self):
        if not self.authorized():
            return
        data = self.read_json()
        if not isinstance(data, dict) or not str(data.get("name", "")).strip() or data.get("grade") not in MONTHLY_FEE:
            return self.send_json(400, {"error": 'send {"name": "...", "grade": 8, 9 or 10}'})
        with connect(self.config["db"]) as db:
            cursor = db.execute(
                "INSERT INTO students (name, grade) VALUES (?, ?)", (data["name"].strip(), data["grade"])
            )
        log.info("enrolled %s as roll %d", data["name"].strip(), cursor.lastrowid)
        self.send_json(201, {"roll": cursor.lastrowid})

    def pay_fee(self, fee_id):
        if not self.authorized():
            return
        with connect(self.config["db"]) as db:
            changed = db.execute(
                "UPDATE fees SET paid = 1 WHERE id = ? AND paid = 0", (fee_id,)
            ).rowcount
        if not changed:
            return self.send_json(404, {"error": f"no unpaid fee {fee_id}"})
        self.send_json(200, {"paid": int(fee_id)})

    # Responses -----------------------------------------------------------------------
    def send_page(self, status, title, body):
        text = PAGE.format(
            title=html.escape(title), body=body, centre=html.escape(self.config["centre"]), version=version()
        )
        self.send(status, "text/html; charset=utf-8", text.encode())

    def send_error_page(self, status, message):
        self.send_page(status, message, '<p><a href="/">Home</a></p>')

    def send_json(self, status, value):
        self.send(status, "application/json", (json.dumps(value) + "\n").encode())

    def send(self, status, content_type, data):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)
        self.status = status

    def client(self):
        return self.headers.get("X-Forwarded-For", self.client_address[0])

    def log_request(self, code="-", size="-"):
        millis = (time.monotonic() - getattr(self, "started", time.monotonic())) * 1000
        level = logging.ERROR if str(code).startswith("5") else logging.INFO
        log.log(level, '%s "%s" %s %.1fms', self.client(), self.requestline, code, millis)

    def log_message(self, fmt, *args):
        log.warning("%s %s", self.client_address[0], fmt % args)


def setup_logging(log_file):
    handler = (
        logging.handlers.WatchedFileHandler(log_file) if log_file else logging.StreamHandler(sys.stdout)
    )
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s", "%Y-%m-%dT%H:%M:%S"))
    log.handlers[:] = [handler]
    log.setLevel(logging.INFO)
    log.propagate = False


def make_server(config):
    """The HTTP server for `config` (port 0 picks a free port); call serve_forever()."""
    handler = type("ConfiguredHandler", (Handler,), {"config": config})
    return ThreadingHTTPServer((config["bind"], config["port"]), handler)


def serve(config):
    connect(config["db"]).close()
    server = make_server(config)
    log.info(
        "tuition %s listening on http://%s:%d (database %s)",
        version(), config["bind"], server.server_port, config["db"],
    )
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


def main(argv):
    command = argv[1] if len(argv) > 1 else "serve"
    if command in ("--version", "version"):
        print(version())
        return 0
    if command not in ("serve", "init-db", "check-config"):
        print(f"usage: {argv[0]} [serve|init-db|check-config|--version]", file=sys.stderr)
        return 2
    try:
        config = load_config()
        setup_logging(config["log_file"] if command == "serve" else "")
        if command == "init-db":
            print(f"{config['db']}: {init_db(config['db'])} students")
        elif command == "check-config":
            connect(config["db"]).close()
            print(f"configuration ok: port {config['port']}, database {config['db']}")
        else:
            serve(config)
    except ConfigError as e:
        print(f"tuition: configuration error: {e}", file=sys.stderr)
        return EX_CONFIG
    except (sqlite3.Error, OSError) as e:
        print(f"tuition: cannot start: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
