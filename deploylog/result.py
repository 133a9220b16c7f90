"""The outcome of one log item: what every check in the engine returns, and what the log records.

A check never raises for an expected bad state; it returns a CheckResult whose
status says PASS/FAIL/NA and whose evidence is the "Actual Result" block the
template asks the operator to paste. A check that cannot run raises
DeploylogError; the pytest plugin turns that into an ERROR result, in one place.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from deploylog import figures as figures_mod
from deploylog.figures import Counts, Figures

PASS = "PASS"
FAIL = "FAIL"
NA = "NA"  # item does not apply here (declared optional in deploy.toml); reason in message
SKIP = "SKIP"  # item was not run (deselected, or skipped by the operator)
MANUAL = "MANUAL"  # phase 7: waiting for a human to record the result
ERROR = "ERROR"  # the check itself could not run (unreachable DB, missing privilege, bad input)
WAIVED = "WAIVED"  # failed (or not run) under a waiver in force: `waived_status` says what it was, `waiver` who approved it

STATUSES = (PASS, FAIL, NA, SKIP, MANUAL, ERROR, WAIVED)


@dataclass(frozen=True)
class CheckResult:
    """One item's verdict plus everything the log shows for it."""

    item: str
    status: str
    message: str  # one line: the verdict in words, used as the assertion message
    evidence: str = ""  # multi-line "Actual Result" pasted into the log
    queries: tuple[str, ...] = ()  # SQL / commands that produced it
    figures: Figures = field(default_factory=Counts)  # numbers for charts and JSON, typed per kind
    host: str = ""  # host the check ran on, for host items
    duration: float = 0.0  # seconds, set when the result is attached to its test
    started: str = ""  # ISO times of the test that produced it
    finished: str = ""
    waived_status: str = ""  # WAIVED only: the status the waiver covers (FAIL, ERROR, or SKIP when not run)
    waiver: dict[str, Any] = field(default_factory=dict)  # WAIVED only: item, justification, approved_by, expires, run

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise ValueError(f"unknown status {self.status!r}")
        raw: Any = self.figures
        if isinstance(raw, dict):  # a plain dict (a custom item's) is the generic kind
            object.__setattr__(self, "figures", Counts(dict(raw)))
        object.__setattr__(self, "queries", tuple(self.queries))

    @property
    def failed(self) -> bool:
        return self.status in (FAIL, ERROR)

    def replace(self, **changes: Any) -> CheckResult:
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        data = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        data["queries"] = list(self.queries)
        data["figures"] = self.figures.to_dict()
        if not self.waived_status:  # only a waived result carries the waiver's fields
            del data["waived_status"], data["waiver"]
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CheckResult:
        known = {f.name for f in dataclasses.fields(cls)}
        values = {k: v for k, v in data.items() if k in known}
        values["figures"] = figures_mod.from_dict(data.get("figures"))
        values["queries"] = tuple(data.get("queries") or ())
        return cls(**values)


def passed(item: str, message: str, **kw: Any) -> CheckResult:
    return CheckResult(item=item, status=PASS, message=message, **kw)


def failed(item: str, message: str, **kw: Any) -> CheckResult:
    return CheckResult(item=item, status=FAIL, message=message, **kw)


def not_applicable(item: str, message: str, **kw: Any) -> CheckResult:
    return CheckResult(item=item, status=NA, message=message, **kw)


def errored(item: str, message: str, **kw: Any) -> CheckResult:
    return CheckResult(item=item, status=ERROR, message=message, **kw)


def verdict(item: str, ok: bool, message: str, **kw: Any) -> CheckResult:
    """PASS when ok, FAIL otherwise, with the same message and evidence."""
    return CheckResult(item=item, status=PASS if ok else FAIL, message=message, **kw)
