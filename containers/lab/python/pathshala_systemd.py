"""Pathshala's layer over docker-systemctl-replacement: it makes the service manager log to
each unit's journal the lines systemd itself would ("Starting nginx.service - ...",
"Started ...", "Failed to start ..."), so `journalctl -u NAME` reads like on a real server.
Imported by /usr/bin/systemctl and by /usr/local/sbin/pathshala-init."""

import logging
import os
import socket
import time

from systemctl2 import systemctl3 as systemctl

# systemd's default RestartSec is 100ms; the library's default string "0.1" parses as its
# 200 s maximum, so give it in a form it reads.
systemctl.DefaultRestartSec = "100ms"

# Status files live in /run. The library looks for a folder the caller can *write*, so a
# learner without sudo would read status from /tmp/run and see every service "inactive".
_get_run = systemctl.get_RUN


def _get_run_readable(root=False):
    if root and os.path.isdir("/run"):
        return "/run"
    return _get_run(root)


systemctl.get_RUN = _get_run_readable


class _QuietConditions(logging.Filter):
    """A unit whose Condition...= is not met is skipped, as systemd does, but the library
    reports "not found /etc/rsyncd.conf" as an error on every daemon-reload, and ends with a
    "found N problems" count. Real problems are each reported on their own line; keep those."""

    def filter(self, record):
        message = str(record.msg)
        return message != "not found %s" and "found %s problems" not in message


systemctl.logg.addFilter(_QuietConditions())

_HOST = socket.gethostname()

# (method, line before, line after success, line after failure)
_LIFECYCLE = [
    ("start_unit", "Starting", "Started", "Failed to start"),
    ("stop_unit", "Stopping", "Stopped", "Failed to stop"),
    ("restart_unit", "Starting", "Started", "Failed to start"),
    ("reload_unit", "Reloading", "Reloaded", "Failed to reload"),
]


def journal_line(self, unit, message):
    """Appends `message` as a systemd[1] line to the unit's journal; never fails a command."""
    try:
        conf = self.unitfiles.load_conf(unit)
        if conf is None:
            return
        path = self.journal.get_log_from(conf)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        stamp = time.strftime("%b %d %H:%M:%S")
        with open(path, "a", encoding="utf-8") as log:
            log.write(f"{stamp} {_HOST} systemd[1]: {message}\n")
    except Exception:  # pylint: disable=broad-exception-caught
        pass


def _journal(self, unit, text):
    """A lifecycle line: "Started tuition.service - Tuition app." and the like."""
    try:
        conf = self.unitfiles.load_conf(unit)
        description = (conf and self.unitfiles.get_Description(conf)) or unit
    except Exception:  # pylint: disable=broad-exception-caught
        description = unit
    journal_line(self, unit, f"{text} {unit} - {description}.")


def _wrap(method, before, after, failed):
    original = getattr(systemctl.Systemctl, method)

    def logged(self, unit):
        _journal(self, unit, before)
        ok = original(self, unit)
        _journal(self, unit, after if ok else failed)
        return ok

    setattr(systemctl.Systemctl, method, logged)


for _method, _before, _after, _failed in _LIFECYCLE:
    _wrap(_method, _before, _after, _failed)


def _enable_units(self, units):
    """`enable --now` fails when a unit does not start, as systemd's does (the library
    reported success whatever the start did)."""
    self.wait_system()
    done = True
    for unit in units:
        if not self.enable_unit(unit):
            done = False
        elif self._now and not self.start_unit(unit):
            done = False
    return done


systemctl.Systemctl.enable_units = _enable_units

_status_unit = systemctl.Systemctl.status_unit


def _status_with_pid_and_log(self, unit):
    """`systemctl status` as systemd prints it: the main PID and the unit's last log lines."""
    code, text = _status_unit(self, unit)
    try:
        conf = self.unitfiles.get_conf(unit)
        pid = self.active_pid_from(conf) if conf.is_loaded() else None
        if pid:
            try:
                with open(f"/proc/{pid}/comm", encoding="utf-8") as f:
                    text += f"\n  Main PID: {pid} ({f.read().strip()})"
            except OSError:
                text += f"\n  Main PID: {pid}"
        with open(self.journal.get_log_from(conf), encoding="utf-8", errors="replace") as log:
            tail = log.readlines()[-10:]
        if tail:
            text += "\n\n" + "".join(tail).rstrip("\n")
    except Exception:  # pylint: disable=broad-exception-caught
        pass
    return code, text


systemctl.Systemctl.status_unit = _status_with_pid_and_log

_do_start = systemctl.Systemctl.do_start_service_from


def _start_clearing_an_old_failure(self, conf):
    """A failed start (say an ExecStartPre `nginx -t` that failed) leaves "failed" in the
    status file, and the library let it outrank a later successful start: nginx served the
    site but stayed "failed", and only stop-then-start recovered. Each start begins clean,
    as in systemd."""
    try:
        if self.get_status_from(conf, "ActiveState", "") == "failed":
            self.write_status_from(conf, AS=None)
    except Exception:  # pylint: disable=broad-exception-caught
        pass
    return _do_start(self, conf)


systemctl.Systemctl.do_start_service_from = _start_clearing_an_old_failure

main = systemctl.main
