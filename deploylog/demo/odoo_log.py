"""Odoo-format server logs for the demo, the phase-6 / 3.4 self-tests and the 1 GB benchmark.

Lines follow odoo/netsvc.py: `%(asctime)s %(pid)s %(levelname)s %(dbname)s %(name)s: %(message)s`
with asctime `2025-12-22 10:15:03,123` (UTC, as Odoo logs by default).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

DB = "osusproperties"
MODULE = "payment_account_enhanced"

KEYERROR_TRACEBACK = [
    "Traceback (most recent call last):",
    '  File "/opt/odoo/odoo/http.py", line 1767, in _serve_db',
    "    return service_model.retrying(self._serve_ir_http, self.env)",
    f'  File "/var/odoo/osusproperties/extra-addons/{MODULE}/models/account_payment.py", line 31, in write',
    "    if payment._is_payment_reconciled():",
    f'  File "/var/odoo/osusproperties/extra-addons/{MODULE}/models/account_payment.py", line 23, in _is_payment_reconciled',
    '    lines = self.env["account.bank.reconciliation.line"].search([("move_id", "=", self.move_id.id)], limit=1)',
    '  File "/opt/odoo/odoo/api.py", line 593, in __getitem__',
    "    return self.registry[model_name](self, (), ())",
    "KeyError: 'account.bank.reconciliation.line'",
]


def stamp(when: dt.datetime) -> str:
    when = when.astimezone(dt.UTC)
    return when.strftime("%Y-%m-%d %H:%M:%S,") + f"{when.microsecond // 1000:03d}"


def line(when: dt.datetime, level: str, logger: str, message: str, pid: int = 4242, db: str = DB) -> str:
    return f"{stamp(when)} {pid} {level} {db} {logger}: {message}"


def startup(when: dt.datetime, pid: int = 4242) -> list[str]:
    """What Odoo prints when it (re)starts and loads the module."""
    return [
        line(when, "INFO", "odoo", "Odoo version 17.0-20251215", pid, "?"),
        line(when, "INFO", "odoo", "addons paths: ['/opt/odoo/addons', '/var/odoo/osusproperties/extra-addons']", pid, "?"),
        line(when, "INFO", "odoo.service.server", "HTTP service (werkzeug) running on 0.0.0.0:8069", pid, "?"),
        line(when + dt.timedelta(seconds=2), "INFO", "odoo.modules.loading", "loading 63 modules...", pid),
        line(when + dt.timedelta(seconds=3), "INFO", "odoo.modules.loading", "63 modules loaded in 1.02s", pid),
        line(when + dt.timedelta(seconds=3), "INFO", "odoo.modules.registry", "Registry loaded in 1.311s", pid),
    ]


def requests(when: dt.datetime, count: int, pid: int = 4242) -> list[str]:
    return [
        line(
            when + dt.timedelta(milliseconds=10 * i),
            "INFO",
            "werkzeug",
            '127.0.0.1 - - [22/Dec/2025 10:15:03] "GET /web/health HTTP/1.1" 200 - 3 0.002 0.004',
            pid,
            "?",
        )
        for i in range(count)
    ]


def module_error(when: dt.datetime, pid: int = 4242) -> list[str]:
    """The real error of this deployment: writing a payment without the bank reconciliation model."""
    return [line(when, "ERROR", "odoo.http", "Exception during request handling.", pid), *KEYERROR_TRACEBACK]


def other_error(when: dt.datetime, pid: int = 4242) -> list[str]:
    return [
        line(when, "ERROR", "odoo.addons.mail.models.mail_mail", "failed sending mail (id 42) to smtp", pid),
        "Traceback (most recent call last):",
        '  File "/opt/odoo/addons/mail/models/mail_mail.py", line 512, in _send',
        "ConnectionRefusedError: [Errno 111] Connection refused",
    ]


def write_log(path: Path, lines: list[str], mode: str = "w") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open(mode, encoding="utf-8", newline="\n") as fh:
        fh.write("\n".join(lines) + "\n")
    return path


def healthy_log(path: Path, started_at: dt.datetime, restart: dt.datetime) -> Path:
    """A week of history (with an old, already handled error), the restart, clean traffic."""
    old = started_at - dt.timedelta(days=1)
    lines = [
        *startup(old - dt.timedelta(days=6), pid=1001),
        *requests(old, 20, pid=1001),
        *module_error(old, pid=1001),  # before the deployment: must not count
        *requests(started_at - dt.timedelta(minutes=1), 5, pid=1001),
        line(started_at + dt.timedelta(seconds=1), "INFO", "odoo.service.server", "Stopping gracefully", 1001),
        *startup(restart),
        *requests(restart + dt.timedelta(seconds=5), 30),
    ]
    return write_log(path, lines)
