"""Issue 8.12: an Odoo log with 200 MB lines, through the real suite (3.4 and phase 6, subprocess).

The log holds what a production Odoo writes when a request carries a base64
attachment: an ERROR record whose message is a 200 MB `bad query`, and a module
error whose traceback has a 200 MB line (the request's parameters). The items
must keep their verdicts, the suite's memory must stay flat, and the state and
execution-log.json must stay small: what is cut off is marked, and an evidence
over the state's limit is kept whole as an attachment with its sha256.

DEPLOYLOG_HOSTILE_LINE_MB sets the giant lines' size (default 200), to measure
the unbounded code on a smaller log without exhausting the machine.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import BinaryIO

import pytest

from deploylog.demo import odoo_log as hl
from deploylog.files import sha256_file
from deploylog.hostchecks import logs
from deploylog.log import evidence
from deploylog.log import state as state_mod
from selftests.support.host_scenario import Scenario
from selftests.support.suite import REPO

LINE_BYTES = int(os.environ.get("DEPLOYLOG_HOSTILE_LINE_MB", "200")) * 1_048_576
SMALL = 2 * 1_048_576  # every file the log writes stays under this
PEAK_RSS = 400 * 1_048_576  # the suite process's peak memory, whatever the log holds
BAD_QUERIES = 20  # ordinary long SQL errors: 6.1's and 6.3's evidence goes over the state's limit
FILLER = (b"iVBORw0KGgoAAAANSUhEUgAAAoAAAAHgCAYAAAA10dzkAAAgAElEQVR4nOzdd3wU" * 16_384)[:1_048_576]


def write_giant(fh: BinaryIO, head: str, size: int, end: str) -> int:
    """One line of `size` base64-looking bytes between head and end, written in 1 MiB pieces; its length."""
    fh.write(head.encode())
    for _ in range(size // len(FILLER)):
        fh.write(FILLER)
    fh.write(FILLER[: size % len(FILLER)])
    fh.write(end.encode() + b"\n")
    return len(head.encode()) + size + len(end.encode())


def hostile_log(path: Path, restart: dt.datetime) -> list[int]:
    """Append the hostile records after the restart; the lengths of the two giant lines."""
    at = restart + dt.timedelta(seconds=10)
    with path.open("ab") as fh:
        giant_message = write_giant(
            fh,
            hl.line(at, "ERROR", "odoo.sql_db", "bad query: UPDATE ir_attachment SET db_datas = '"),
            LINE_BYTES,
            "' WHERE id = 4242",
        )
        for n in range(BAD_QUERIES):
            columns = ", ".join(f"x_studio_field_{i} = 'value {i}'" for i in range(200))
            when = at + dt.timedelta(seconds=1 + n)
            fh.write(
                (hl.line(when, "ERROR", "odoo.sql_db", f"bad query: UPDATE res_partner SET {columns} WHERE id = {n}") + "\n").encode()
            )
        when = at + dt.timedelta(seconds=30)
        fh.write(
            (
                "\n".join([hl.line(when, "ERROR", "odoo.http", "Exception during request handling."), *hl.KEYERROR_TRACEBACK[:5]])
                + "\n"
            ).encode()
        )
        giant_continuation = write_giant(fh, "    vals = {'attachment': '", LINE_BYTES, "'}")
        fh.write(("\n".join([*hl.KEYERROR_TRACEBACK[5:], *hl.requests(when + dt.timedelta(seconds=1), 30)]) + "\n").encode())
    return [giant_message, giant_continuation]


@pytest.fixture
def scenario(deployment, pg_cluster):
    s = Scenario(deployment, pg_cluster.bin_dir)
    yield s
    s.server.stop()


def line_marker(length: int) -> str:
    """The marker of a log line cut to its head and tail."""
    return logs.truncated(length - logs.LINE_HEAD - logs.LINE_TAIL)


def test_200_mb_log_lines_keep_verdicts_and_leave_a_small_log(scenario):
    scenario.phase0()
    restart = scenario.restart()
    scenario.write_log(restart)
    giants = hostile_log(scenario.log, restart)
    # ru_maxrss of the children is the largest child's: below the bound before, below it after => the suite's too
    assert resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024 < PEAK_RSS
    t0 = time.perf_counter()
    run = scenario.d.run("--items", "3.4,6.1,6.2,6.3", timeout=900)
    seconds = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024
    print(f"suite on a log with two {LINE_BYTES / 1_048_576:.0f} MB lines: {seconds:.1f} s, peak RSS <= {peak / 1_048_576:.0f} MB")

    module = hl.MODULE
    first = hl.stamp(restart + dt.timedelta(seconds=40))
    expected = {
        "3.4": f"ERRORS DETECTED: 1 error(s) of {module} in the log since the restart (first: {first} Exception during request handling.)",
        "6.1": f"ERRORS PRESENT: {BAD_QUERIES + 2} ERROR/CRITICAL record(s) since ",
        "6.2": f"MODULE ERRORS: 1, first at {first} odoo.http: Exception during request handling.",
        "6.3": f"{BAD_QUERIES + 2} error record(s), 1 with traceback; last: odoo.http: Exception during request handling.",
    }
    for item, message in expected.items():
        assert run.status(item) == "FAIL", (item, run.status(item), run.output[-3000:])
        assert run.message(item).startswith(f"[{item}] {message}"), (item, run.message(item))

    report = scenario.d.report_dir
    state_file = state_mod.state_path(report, scenario.spec.deployment_id)
    for path in (state_file, *(report / f"execution-log.{ext}" for ext in ("json", "md", "html"))):
        assert path.stat().st_size < SMALL, (path, path.stat().st_size)
    assert peak < PEAK_RSS, f"peak RSS {peak / 1_048_576:.0f} MB"

    items = run.log()["items"]
    (details,) = items["6.3"]["results"]
    # the giant message is cut in the evidence to its head and tail, with the exact count of bytes left out
    assert line_marker(giants[0]) in details["evidence"]
    # 6.3's evidence is over the state's limit: its head, then where the whole text is
    (attached,) = details["full_text"]
    assert attached["field"] == "evidence" and re.fullmatch(r"evidence/6\.3-evidence-[0-9a-f]{16}\.txt", attached["path"])
    whole = report / attached["path"]
    assert whole.stat().st_size == attached["size"] > evidence.EVIDENCE_LIMIT
    assert sha256_file(whole) == attached["sha256"]
    omitted = attached["size"] - len(details["evidence"].split("\n… truncated: ")[0].encode())
    assert details["evidence"].endswith(
        f"\n… truncated: {omitted} bytes omitted (full text: {attached['path']}, sha256 {attached['sha256']})"
    )
    text = whole.read_text()
    assert text.startswith(details["evidence"].split("\n… truncated: ")[0])
    assert line_marker(giants[0]) in text and line_marker(giants[1]) in text
    assert "KeyError: 'account.bank.reconciliation.line'" in text
    # the log files show the marker as recorded, and verify still matches them to the state
    assert f"full text: {attached['path']}, sha256 {attached['sha256']}" in (report / "execution-log.md").read_text()
    verify = subprocess.run(
        [sys.executable, "-m", "deploylog", f"--deploy-config={scenario.d.config_path}", "verify"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    assert verify.returncode == 0, verify.stdout + verify.stderr
