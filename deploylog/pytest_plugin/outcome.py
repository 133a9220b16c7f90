"""The one place where a log test's pytest outcome becomes its CheckResult.

A check decides its own status and the test records it (the `verdict`
fixture). This module only folds the three reports of the test into the one
result that crosses to the log, attached to the teardown report:

- a result was recorded and nothing went wrong after it: that result;
- an error in setup (a fixture could not connect, the baseline is missing,
  deploy.toml is invalid): ERROR, with the error's one line;
- the call raised without recording (a custom item's failed `assert`: FAIL;
  anything else: ERROR); an error in teardown turns the result into ERROR;
- skipped without a result: SKIP with the reason; passed without one: PASS;
- then a waiver in force turns a FAIL or ERROR (or the SKIP of an item it
  keeps from running) into WAIVED; a test that recorded no queries gets the
  statements it ran through the snapshot as its Query evidence.

Failure texts of log tests are cut to one line here too: the console, JUnit
and pytest-html never show a raw traceback (unless --full-trace is given).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from deploylog import waivers
from deploylog.errors import DeploylogError
from deploylog.pytest_plugin import context
from deploylog.pytest_plugin.context import Observed
from deploylog.redact import redact
from deploylog.result import ERROR, FAIL, PASS, SKIP, CheckResult, errored

MAX_LINE = 400
MAX_STATEMENTS = 100  # a test's own statements kept as its Query evidence


def clip(text: str) -> str:
    text = redact(" ".join(text.split()))
    return text if len(text) <= MAX_LINE else text[: MAX_LINE - 1] + "…"


def exception_line(exc: BaseException) -> str:
    """One line naming what went wrong; a DeploylogError's message already is that line."""
    if isinstance(exc, DeploylogError | pytest.fail.Exception | pytest.skip.Exception):
        text = str(getattr(exc, "msg", None) or exc)
    elif isinstance(exc, AssertionError) and str(exc).strip():  # a test's own assert: its message is the verdict
        text = str(exc)
    else:
        text = f"{type(exc).__name__}: {exc}"
    lines = [line for line in text.splitlines() if line.strip()]
    return clip(lines[0] if lines else type(exc).__name__)


def _skip_reason(report: pytest.TestReport) -> str:
    longrepr = report.longrepr
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        return clip(str(longrepr[2]).removeprefix("Skipped: "))
    return clip(str(longrepr or "skipped"))


def observe(item: pytest.Item, call: pytest.CallInfo[None], report: pytest.TestReport, full_trace: bool) -> None:
    """Fold one report of a log test into its Observed, and cut its failure text to one line."""
    seen = context.observed(item)
    seen.phases.append(report.when)
    seen.duration += float(report.duration or 0.0)
    if report.start and (not seen.start or report.start < seen.start):
        seen.start = report.start
    seen.stop = max(seen.stop, float(report.stop or 0.0))
    backend = getattr(getattr(item, "funcargs", {}).get("host"), "backend", None)
    if not seen.host and backend is not None:
        seen.host = backend.get_pytest_id()
    if report.skipped:
        seen.skip_reason = _skip_reason(report)
        return
    if report.passed:
        seen.passed_call = seen.passed_call or report.when == "call"
        return
    exc = call.excinfo.value if call.excinfo is not None else None
    line = exception_line(exc) if exc is not None else clip(report.longreprtext or "failed")
    if report.when == "setup":
        seen.setup_error = line
    elif report.when == "call":
        seen.call_failure = line
        kind = FAIL if isinstance(exc, AssertionError) else ERROR
        if isinstance(exc, pytest.fail.Exception) and context.recorded(item) is None:
            kind = FAIL  # pytest.fail() in a custom item is its verdict
        seen.call_failure_kind = kind
    else:
        seen.teardown_error = line
    if not full_trace:
        report.longrepr = line


def _consistent(result: CheckResult, seen: Observed) -> bool:
    """Did the call end the way the recorded result says (the verdict fixture's own pass/fail/skip)?"""
    if result.status == PASS:
        return not seen.call_failure
    if result.status in (FAIL, ERROR):
        return bool(seen.call_failure) or not seen.passed_call
    return True  # NA, MANUAL, SKIP end the call with a skip


def final(item: pytest.Item, item_id: str) -> CheckResult:
    """The test's result as the log records it (a waiver in force applied, the snapshot's statements as its queries)."""
    result = _decided(item, item_id)
    ran = context.observed(item).statements
    if ran and not result.queries:  # a test that only asserts: the SQL it ran is its Query evidence
        more = [f"... {len(ran) - MAX_STATEMENTS} more statement(s)"] if len(ran) > MAX_STATEMENTS else []
        result = result.replace(queries=(*ran[:MAX_STATEMENTS], *more))
    return waivers.apply(result, context.waivers(item.config))


def _decided(item: pytest.Item, item_id: str) -> CheckResult:
    seen = context.observed(item)
    recorded = context.recorded(item)
    timing: dict[str, Any] = {
        "duration": round(seen.duration, 3),
        "started": _iso(seen.start),
        "finished": _iso(seen.stop),
    }
    host = {"host": seen.host} if seen.host else {}
    if seen.setup_error:
        return errored(item_id, seen.setup_error, **host, **timing)
    if recorded is not None and _consistent(recorded, seen):
        result = recorded.replace(**timing)
        if seen.teardown_error:
            return result.replace(status=ERROR, message=f"{result.message} (teardown error: {seen.teardown_error})")
        return result
    base = recorded if recorded is not None else CheckResult(item_id, SKIP, "not run", host=seen.host)
    base = base.replace(**timing)
    if seen.call_failure:
        return base.replace(status=seen.call_failure_kind or ERROR, message=seen.call_failure)
    if seen.teardown_error:
        return base.replace(status=ERROR, message=seen.teardown_error)
    if seen.skip_reason:
        return base.replace(status=SKIP, message=seen.skip_reason)
    if seen.passed_call:
        return base.replace(status=PASS, message="test passed")
    return base


def interrupted(item_id: str, nodeid: str) -> CheckResult:
    """A test the session stopped before it finished (Ctrl-C, -x)."""
    return errored(item_id, f"interrupted before {nodeid} finished: no result")


def _iso(ts: float) -> str:
    return dt.datetime.fromtimestamp(ts, dt.UTC).isoformat(timespec="milliseconds") if ts else ""
