"""Helpers to drive the real reporter: a deploy.toml and small log tests in a pytester dir."""

from __future__ import annotations

import json
import resource
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

SECRET = "hunter2"
DEPLOYMENT_ID = "osusproperties-payment_account_enhanced-17.0.1.0.9"

DEPLOY_TOML = f"""
[deployment]
module = "payment_account_enhanced"
title = "Payment Workflow Hardening"
expected_version = "17.0.1.0.9"

[database]
name = "osusproperties"
dsn = "host=db.example dbname=osusproperties user=odoo password={SECRET}"

[paths]
report_dir = "reports"
baseline_dir = "baseline"

# the sections the template's items need (catalogue.toml `needs`): every built-in item is in this runbook
[groups]
manager = "payment_account_enhanced.group_payment_manager"

[approval]
payment_states = ["draft", "posted"]

[reconciliation]
table = "account_bank_reconciliation_line"

[[guards]]
item = "4.2"
file = "models/account_payment.py"
function = "AccountPayment.write"

[[guards]]
item = "4.3"
file = "models/account_move.py"
function = "AccountMove.button_draft"

[[guards]]
item = "4.4"
file = "models/account_payment.py"
function = "AccountPayment._is_payment_reconciled"
"""

# One test per item; each decides through the plugin's `verdict` fixture, like the real suite.
PHASE0_TESTS = """
import pytest
from deploylog.result import CheckResult

@pytest.mark.item("0.1")
def test_distribution(verdict):
    verdict(CheckResult("0.1", "PASS", "posted payments 150 > 100", evidence="posted_payments | 150",
                        queries=["SELECT count(*) FROM account_payment"]))

@pytest.mark.item("0.2")
def test_reconciliation(verdict):
    verdict(CheckResult("0.2", "{status_02}", "orphaned = {orphans}", evidence="orphaned | {orphans}"))

@pytest.mark.item("0.3")
def test_baseline(verdict):
    verdict(CheckResult("0.3", "NA", "reconciliation table absent in this database"))

@pytest.fixture
def broken():
    raise RuntimeError("could not connect to server: password=hunter2 rejected")

@pytest.mark.item("0.4")
def test_permissions(broken):
    pass

def test_not_a_log_item():
    pass
"""


def setup(pytester: pytest.Pytester, toml: str = DEPLOY_TOML) -> None:
    pytester.makefile(".toml", deploy=toml)


def phase0(pytester: pytest.Pytester, status_02: str = "PASS", orphans: int = 0) -> None:
    pytester.makepyfile(test_phase0=PHASE0_TESTS.replace("{status_02}", status_02).replace("{orphans}", str(orphans)))


def log_json(pytester: pytest.Pytester) -> dict[str, Any]:
    return json.loads((pytester.path / "reports" / "execution-log.json").read_text(encoding="utf-8"))


def reports(pytester: pytest.Pytester) -> Path:
    return pytester.path / "reports"


def state_file(pytester: pytest.Pytester) -> Path:
    return reports(pytester) / f"{DEPLOYMENT_ID}.state.json"


def run_with_file_size_limit(pytester: pytest.Pytester, limit: int) -> subprocess.CompletedProcess[str]:
    """pytest in a subprocess that cannot write a file larger than `limit` bytes: a full disk, for real.

    RLIMIT_FSIZE makes the kernel refuse the write (EFBIG, "File too large") exactly where
    a full disk refuses it (ENOSPC); SIGXFSZ is ignored so the write fails instead of killing the process.
    """

    def limit_file_size() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-p", "no:randomly", "-q"],
        cwd=pytester.path,
        preexec_fn=limit_file_size,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
