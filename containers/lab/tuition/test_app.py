"""The tuition app's own tests: `python3 -m unittest` in this folder (no network needed)."""

import json
import os
import tempfile
import threading
import unittest
import urllib.error
import urllib.request

import app

SECRET = "test-secret-key-123"


class TuitionAppTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        db = os.path.join(cls.tmp.name, "tuition.db")
        app.init_db(db)
        app.setup_logging(os.path.join(cls.tmp.name, "app.log"))
        config = app.load_config({"TUITION_SECRET_KEY": SECRET, "TUITION_DB": db, "TUITION_PORT": "1"})
        config["port"] = 0
        cls.server = app.make_server(config)
        cls.base = f"http://127.0.0.1:{cls.server.server_port}"
        threading.Thread(target=cls.server.serve_forever, daemon=True).start()

    @classmethod
    def tearDownClass(cls):
        cls.server.shutdown()
        cls.server.server_close()
        cls.tmp.cleanup()

    def request(self, path, data=None, key=None):
        headers = {"Content-Type": "application/json"}
        if key:
            headers["Authorization"] = "Bearer " + key
        body = json.dumps(data).encode() if data is not None else None
        req = urllib.request.Request(self.base + path, data=body, headers=headers)
        try:
            with urllib.request.urlopen(req, timeout=5) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode()

    def test_health_reports_ok_and_the_version(self):
        status, body = self.request("/health")
        self.assertEqual(status, 200)
        self.assertEqual(json.loads(body)["status"], "ok")
        self.assertEqual(json.loads(body)["version"], app.version())

    def test_head_answers_like_get_without_a_body(self):
        request = urllib.request.Request(self.base + "/health", method="HEAD")
        with urllib.request.urlopen(request, timeout=5) as response:
            self.assertEqual(response.status, 200)
            self.assertEqual(response.read(), b"")

    def test_home_page_names_the_centre(self):
        status, body = self.request("/")
        self.assertEqual(status, 200)
        self.assertIn("Kathmandu Tuition Centre", body)

    def test_students_are_listed(self):
        status, body = self.request("/api/students")
        self.assertEqual(status, 200)
        self.assertGreaterEqual(len(json.loads(body)), len(app.STUDENTS))

    def test_adding_a_student_needs_the_secret_key(self):
        student = {"name": "Yamuna Bista", "grade": 9}
        self.assertEqual(self.request("/api/students", student)[0], 401)
        self.assertEqual(self.request("/api/students", student, key="wrong-key-000000")[0], 401)
        status, body = self.request("/api/students", student, key=SECRET)
        self.assertEqual(status, 201)
        self.assertGreater(json.loads(body)["roll"], len(app.STUDENTS))

    def test_results_give_marks_and_division(self):
        status, body = self.request("/api/results/1")
        self.assertEqual(status, 200)
        result = json.loads(body)
        self.assertEqual(len(result["marks"]), len(app.SUBJECTS))
        self.assertEqual(result["division"], app.division(result["percent"]))
        self.assertEqual(self.request("/api/results/9999")[0], 404)

    def test_division_boundaries(self):
        self.assertEqual(app.division(80), "Distinction")
        self.assertEqual(app.division(79.99), "First division")
        self.assertEqual(app.division(60), "First division")
        self.assertEqual(app.division(45), "Second division")
        self.assertEqual(app.division(32), "Third division")
        self.assertEqual(app.division(31.9), "Not passed")

    def test_fees_due_are_unpaid_fees(self):
        status, body = self.request("/api/fees/due")
        self.assertEqual(status, 200)
        due = json.loads(body)
        self.assertTrue(due)
        self.assertTrue(all(fee["amount"] in app.MONTHLY_FEE.values() for fee in due))

    def test_config_refuses_a_missing_or_short_secret(self):
        with self.assertRaisesRegex(app.ConfigError, "TUITION_SECRET_KEY is not set"):
            app.load_config({})
        with self.assertRaisesRegex(app.ConfigError, "too short"):
            app.load_config({"TUITION_SECRET_KEY": "short"})
        with self.assertRaisesRegex(app.ConfigError, "TUITION_PORT"):
            app.load_config({"TUITION_SECRET_KEY": SECRET, "TUITION_PORT": "eighty"})


if __name__ == "__main__":
    unittest.main()
