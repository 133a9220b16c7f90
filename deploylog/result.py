"""The outcome of one log item: what every check in the engine returns.

A check never raises for an expected bad state; it returns a CheckResult whose
status says PASS/FAIL/NA and whose evidence is the "Actual Result" block the
template asks the operator to paste.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

PASS = "PASS"
FAIL = "FAIL"
NA = "NA"  # item does not apply here (e.g. reconciliation table absent); reason in message
SKIP = "SKIP"  # item was not run (deselected, or skipped by the operator)
MANUAL = "MANUAL"  # phase 7: waiting for a human to record the result
ERROR = "ERROR"  # the check itself could not run (unreachable DB, bad input)

STATUSES = (PASS, FAIL, NA, SKIP, MANUAL, ERROR)


@dataclass
class CheckResult:
    """One item's verdict plus everything the log shows for it."""

    item: str
    status: str
    message: str  # one line: the verdict in words, used as the assertion message
    evidence: str = ""  # multi-line "Actual Result" pasted into the log
    queries: list[str] = field(default_factory=list)  # SQL / commands that produced it
    figures: dict[str, Any] = field(default_factory=dict)  # numbers for charts and JSON
    host: str = ""  # host the check ran on, for host items

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise ValueError(f"unknown status {self.status!r}")

    @property
    def ok(self) -> bool:
        return self.status in (PASS, NA)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def passed(item: str, message: str, **kw: Any) -> CheckResult:
    return CheckResult(item=item, status=PASS, message=message, **kw)


def failed(item: str, message: str, **kw: Any) -> CheckResult:
    return CheckResult(item=item, status=FAIL, message=message, **kw)


def not_applicable(item: str, message: str, **kw: Any) -> CheckResult:
    return CheckResult(item=item, status=NA, message=message, **kw)


def verdict(item: str, ok: bool, message: str, **kw: Any) -> CheckResult:
    """PASS when ok, FAIL otherwise, with the same message and evidence."""
    return CheckResult(item=item, status=PASS if ok else FAIL, message=message, **kw)
