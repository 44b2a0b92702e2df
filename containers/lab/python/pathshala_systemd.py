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


def _journal(self, unit, text):
    """Appends one systemd-style line to the unit's journal file; never fails the command."""
    try:
        conf = self.unitfiles.load_conf(unit)
        if conf is None:
            return
        path = self.journal.get_log_from(conf)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        description = self.unitfiles.get_Description(conf) or unit
        stamp = time.strftime("%b %d %H:%M:%S")
        with open(path, "a", encoding="utf-8") as log:
            log.write(f"{stamp} {_HOST} systemd[1]: {text} {unit} - {description}.\n")
    except Exception:  # pylint: disable=broad-exception-caught
        pass


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

main = systemctl.main
