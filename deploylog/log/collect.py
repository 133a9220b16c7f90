"""pytest reports -> one log entry per test (item, host, status, evidence, timing).

A test yields three reports (setup, call, teardown). The entry takes its
status from the CheckResult the test recorded; when none was recorded (the
test errored or was skipped before deciding) the status comes from the pytest
outcome: error in setup/teardown -> ERROR, failed call -> FAIL, skipped ->
NA when the reason starts with "NA: ", MANUAL when it starts with "MANUAL: ",
SKIP otherwise. ERROR is shown as FAIL in the JSON contract.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from deploylog.log.redact import redact, redact_obj
from deploylog.log.state import iso
from deploylog.result import ERROR, FAIL, MANUAL, NA, PASS, SKIP

MAX_LINE = 400


def one_line(report: Any) -> str:
    """The one-line reason of a failed or skipped report (never a traceback)."""
    longrepr = getattr(report, "longrepr", None)
    if isinstance(longrepr, tuple) and len(longrepr) == 3:  # skip: (path, lineno, reason)
        text = str(longrepr[2])
        text = text.removeprefix("Skipped: ")
        return _clip(text)
    text = getattr(report, "longreprtext", "") or str(longrepr or "")
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    errors = [line[1:].strip() for line in lines if line.startswith("E ")]
    if errors:
        return _clip(errors[0])
    return _clip(lines[-1] if lines else "failed without a message")


def _clip(text: str) -> str:
    text = redact(" ".join(text.split()))
    return text if len(text) <= MAX_LINE else text[: MAX_LINE - 1] + "…"


@dataclass
class Accumulator:
    """Everything the three reports of one test say, folded into one entry."""

    item: str
    nodeid: str
    result: dict[str, Any] | None = None
    duration: float = 0.0
    start: float = 0.0
    stop: float = 0.0
    setup_error: str = ""
    call_failure: str = ""
    teardown_error: str = ""
    skip_reason: str = ""
    passed_call: bool = False
    problems: list[str] = field(default_factory=list)

    def add(self, report: Any) -> None:
        self.duration += float(getattr(report, "duration", 0.0) or 0.0)
        start, stop = float(getattr(report, "start", 0.0) or 0.0), float(getattr(report, "stop", 0.0) or 0.0)
        if start and (not self.start or start < self.start):
            self.start = start
        self.stop = max(self.stop, stop)
        recorded = getattr(report, "deploylog_result", None)
        if recorded and self.result is None:
            self.result = recorded
        when = report.when
        if report.skipped:
            self.skip_reason = one_line(report)
        elif report.failed:
            line = one_line(report)
            if when == "setup":
                self.setup_error = line
            elif when == "call":
                self.call_failure = line
            else:
                self.teardown_error = line
        elif when == "call":
            self.passed_call = True

    def entry(self) -> dict[str, Any]:
        status, message, detail = self._decide()
        result = redact_obj(self.result or {})
        return {
            "item": self.item,
            "nodeid": self.nodeid,
            "host": result.get("host", "") or "",
            "status": status,
            "message": message,
            "detail": detail,
            "evidence": result.get("evidence", "") or "",
            "queries": list(result.get("queries", []) or []),
            "figures": result.get("figures", {}) or {},
            "duration": round(self.duration, 3),
            "started": iso(self.start) if self.start else "",
            "finished": iso(self.stop) if self.stop else "",
        }

    def _decide(self) -> tuple[str, str, str]:
        """(status, one-line message, detail about how it was decided)."""
        if self.result is not None:
            status, message = self.result.get("status", ERROR), redact(self.result.get("message", ""))
            if self.setup_error:
                return ERROR, self.setup_error, "error in setup after the result was recorded"
            if status == PASS and self.call_failure:
                return FAIL, self.call_failure, "recorded PASS, then the test failed"
            if self.teardown_error:
                return ERROR, f"{message} (teardown error: {self.teardown_error})", "error in teardown"
            return status, message, "recorded result"
        if self.setup_error:
            return ERROR, self.setup_error, "error in setup (no result recorded)"
        if self.call_failure:
            return FAIL, self.call_failure, "test failed (no result recorded)"
        if self.teardown_error:
            return ERROR, self.teardown_error, "error in teardown (no result recorded)"
        if self.skip_reason:
            if self.skip_reason.startswith("NA: "):
                return NA, self.skip_reason[4:], "skipped as not applicable"
            if self.skip_reason.startswith("MANUAL: "):
                return MANUAL, self.skip_reason[8:], "waiting for a manual result"
            return SKIP, self.skip_reason, "skipped"
        if self.passed_call:
            return PASS, "test passed (no result recorded)", "pytest outcome"
        return SKIP, "not run", "no call phase"
