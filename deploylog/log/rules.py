"""The log's rules, in one place: item status across hosts, phase results,
overall status, quality scores and the go / no-go verdict.

docs/log-rules.md states the same rules in words; keep them in step.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from deploylog import catalogue, figures, waivers
from deploylog.figures import Figures
from deploylog.result import ERROR, FAIL, MANUAL, NA, PASS, SKIP, WAIVED

# WAIVED is decided and not failed: a waiver in force accepted its failure (or its not running).
DECIDED = frozenset({PASS, FAIL, ERROR, NA, WAIVED})
FAILED = frozenset({FAIL, ERROR})
# The seven phases counted in "Phases Completed: x / 7"; P is the T-24h list, 7 the next-24h manual tests.
COUNTED_PHASES = ("0", "1", "2", "3", "4", "5", "6")
# Quality-score penalty of one failed item, by severity: score = 5 - ceil(sum), at least 1.
PENALTY = {catalogue.CRITICAL: 4.0, catalogue.HIGH: 2.0, catalogue.MEDIUM: 1.0, catalogue.LOW: 0.5}
SEVERITY_RANK = {catalogue.LOW: 0, catalogue.MEDIUM: 1, catalogue.HIGH: 2, catalogue.CRITICAL: 3}

COMPLETE_SUCCESS = "COMPLETE SUCCESS"
MINOR_ISSUES = "MINOR ISSUES"
CRITICAL_FAILURE = "CRITICAL FAILURE"
OVERALL_STATUSES = (COMPLETE_SUCCESS, MINOR_ISSUES, CRITICAL_FAILURE)

GO = "GO"
NO_GO = "NO-GO"
ROLLBACK = "ROLLBACK"

# Phase states.
PHASE_PASS = "PASS"
PHASE_FAIL = "FAIL"
PHASE_INCOMPLETE = "INCOMPLETE"
PHASE_NOT_RUN = "NOT RUN"
PHASE_PENDING = "PENDING"

# The template's "Phase N Result" line: (proceed option, failure option).
PHASE_OPTIONS: dict[str, tuple[str, str]] = {
    "P": ("ALL CHECKED → Proceed", "ISSUES FOUND → RESOLVE BEFORE THE WINDOW"),
    "0": ("ALL PASS → Proceed", "FAIL → ABORT & ROLLBACK"),
    "1": ("ALL BACKUPS OK → Proceed", "BACKUP FAILED → ABORT"),
    "2": ("CODE DEPLOYED OK → Proceed", "FAILED → ROLLBACK"),
    "3": ("SERVICE OK → Proceed", "SERVICE ISSUE → INVESTIGATE/ROLLBACK"),
    "4": ("{passed}/{total} TESTS PASS", "SOME TESTS FAIL"),
    "5": ("ALL DATA INTACT", "DATA LOSS DETECTED (ROLLBACK!)"),
    "6": ("CLEAN LOGS", "ERRORS FOUND"),
    "7": ("ALL MANUAL TESTS PASS", "MANUAL TEST FAILED"),
}
LOG_SEVERITIES = ("LOW", "MEDIUM", "HIGH")
DEFAULT_DUMP = "the phase 1 dump"


@dataclass
class ItemView:
    """One catalogue item as the log shows it: its current status and where it came from."""

    item: catalogue.Item
    status: str
    message: str = ""
    entries: list[dict[str, Any]] = field(default_factory=list)  # current results, one per host
    attempts: list[dict[str, Any]] = field(default_factory=list)  # earlier results, oldest first
    manual: dict[str, Any] | None = None  # the recorded manual result in force, if any

    @property
    def decided(self) -> bool:
        return self.status in DECIDED

    @property
    def failed(self) -> bool:
        return self.status in FAILED

    @property
    def figures(self) -> dict[str, Any]:
        """The current entries' figures as one dict (the JSON's `figures`)."""
        merged: dict[str, Any] = {}
        for entry in self.entries:
            merged.update(entry.get("figures") or {})
        return merged

    def typed_figures(self) -> list[Figures]:
        """The current entries' figures, typed per kind (one per host)."""
        return [figures.from_dict(entry.get("figures")) for entry in self.entries]

    @property
    def waiver(self) -> dict[str, Any]:
        """The waiver a WAIVED item is under ({} otherwise)."""
        return next((e["waiver"] for e in self.entries if e.get("waiver")), {}) if self.status == WAIVED else {}

    @property
    def waived_status(self) -> str:
        """What a WAIVED item's waiver covers: FAIL, ERROR, or SKIP (not run)."""
        found = [e.get("waived_status", "") for e in self.entries if e.get("status") == WAIVED]
        return next((s for s in (FAIL, ERROR, SKIP) if s in found), "")


@dataclass
class PhaseResult:
    phase: str
    title: str
    state: str
    options: list[tuple[str, bool]]  # the Phase Result line's boxes
    note: str = ""
    counts: dict[str, int] = field(default_factory=dict)
    started: str = ""
    finished: str = ""
    severity_options: list[tuple[str, bool]] = field(default_factory=list)  # phase 6 only


@dataclass
class Overall:
    status: str
    final: bool  # every item decided: the status can no longer change without a re-run
    ticked: bool  # whether the FINAL RESULTS box is ticked (final, or a critical failure)
    critical_issues: list[str]
    issues: list[str]
    pending: list[str]
    not_applicable: list[str] = field(default_factory=list)  # "id title: reason", named so an N/A is never hidden
    waived: list[str] = field(default_factory=list)  # "id title: FAIL waived: justification (approved by, until)"


@dataclass
class Score:
    aspect: str
    value: int | None  # None: nothing decided yet
    final: bool
    notes: str


@dataclass
class Verdict:
    word: str
    reason: str

    def line(self) -> str:
        return f"deploylog: {self.word} — {self.reason}"


@dataclass
class Summary:
    phases_completed: int
    phases_total: int
    tests_passed: int
    tests_total: int  # items that apply (not NA)
    failed: int
    not_applicable: int
    pending: int
    critical_issues: int
    waived: int = 0


def item_status(statuses: list[str], phase: str) -> str:
    """One status for an item from its per-host results; never-run items are SKIP (MANUAL in phase 7)."""
    if not statuses:
        return MANUAL if phase == "7" else SKIP
    for worst in (FAIL, ERROR, MANUAL, SKIP, WAIVED, PASS):
        if worst in statuses:
            return worst
    return NA


def dump_to_restore(items: dict[str, ItemView]) -> str:
    """The phase 1 dump a rollback restores from: the one 1.1 verified, when it recorded one."""
    view = items.get("1.1")
    paths = [f.path for f in view.typed_figures() if isinstance(f, figures.Dump) and f.path] if view else []
    return paths[0] if paths else DEFAULT_DUMP


def contract_status(status: str) -> str:
    """The JSON contract knows PASS FAIL SKIP NA MANUAL, and WAIVED: an ERROR (the check could not run) counts as FAIL."""
    return FAIL if status == ERROR else status


def waiver_text(view: ItemView) -> str:
    """'FAIL waived: <justification> (approved by <who>, until <date>)', the words every format shows."""
    return waivers.text(view.waived_status, view.waiver)


def phase_result(phase: str, items: dict[str, ItemView]) -> PhaseResult:
    views = [v for v in items.values() if v.item.phase == phase]
    counts: dict[str, int] = {}
    for view in views:
        counts[view.status] = counts.get(view.status, 0) + 1
    failed = [v for v in views if v.failed]
    undecided = [v for v in views if not v.decided]
    if len(undecided) == len(views):
        state = PHASE_PENDING if phase == "7" else PHASE_NOT_RUN
    elif failed:
        state = PHASE_FAIL
    elif undecided:
        state = PHASE_PENDING if phase == "7" else PHASE_INCOMPLETE
    else:
        state = PHASE_PASS
    ok_label, fail_label = PHASE_OPTIONS[phase]
    passed = sum(1 for v in views if v.status in (PASS, NA))
    ok_label = ok_label.format(passed=passed, total=len(views))
    fail_ticked = state == PHASE_FAIL
    note = ""
    if phase == "5" and failed:
        mismatched = [v.item.id for v in failed if v.status == FAIL]
        if mismatched:
            note = f"mismatch in {', '.join(mismatched)}: roll back and restore {dump_to_restore(items)}"
        else:  # checks that could not run prove nothing either way
            fail_ticked = False
            note = "data integrity NOT VERIFIED: " + "; ".join(f"{v.item.id}: {v.message}" for v in failed)
    elif failed:
        note = "failed: " + ", ".join(v.item.id for v in failed)
    elif undecided and state != PHASE_NOT_RUN:
        note = "not decided yet: " + ", ".join(v.item.id for v in undecided)
    waived = [v.item.id for v in views if v.status == WAIVED]
    if waived:  # accepted, never hidden
        note = "; ".join(filter(None, [note, "waived: " + ", ".join(waived)]))
    severity_options: list[tuple[str, bool]] = []
    if phase == "6":
        worst = max((SEVERITY_RANK[v.item.severity] for v in failed), default=None)
        level = None if worst is None else LOG_SEVERITIES[min(worst, 2)]
        severity_options = [(name, name == level) for name in LOG_SEVERITIES]
    starts = [e["started"] for v in views for e in v.entries if e.get("started")]
    ends = [e["finished"] for v in views for e in v.entries if e.get("finished")]
    return PhaseResult(
        phase=phase,
        title=catalogue.PHASES[phase],
        state=state,
        options=[(ok_label, state == PHASE_PASS), (fail_label, fail_ticked)],
        note=note,
        counts=counts,
        started=min(starts, default=""),
        finished=max(ends, default=""),
        severity_options=severity_options,
    )


def phase_results(items: dict[str, ItemView]) -> dict[str, PhaseResult]:
    return {phase: phase_result(phase, items) for phase in catalogue.PHASES}


def _issue(view: ItemView) -> str:
    return f"{view.item.id} {view.item.title} [{view.item.severity}] {view.status}: {view.message}"


def overall(items: dict[str, ItemView], phases: dict[str, PhaseResult]) -> Overall:
    failed = sorted((v for v in items.values() if v.failed), key=lambda v: -SEVERITY_RANK[v.item.severity])
    critical = [_issue(v) for v in failed if v.item.severity == catalogue.CRITICAL]
    if phases["0"].state == PHASE_FAIL:
        critical.insert(0, "Phase 0 failed → ABORT & ROLLBACK")
    data_loss = [v.item.id for v in failed if v.item.phase == "5" and v.status == FAIL]
    if data_loss:
        critical.insert(0, f"DATA LOSS DETECTED in {', '.join(data_loss)} → restore {dump_to_restore(items)}")
    pending = [v.item.id for v in items.values() if not v.decided]
    if critical:
        status = CRITICAL_FAILURE
    elif failed or pending:
        status = MINOR_ISSUES
    else:
        status = COMPLETE_SUCCESS
    final = not pending
    return Overall(
        status=status,
        final=final,
        ticked=final or status == CRITICAL_FAILURE,
        critical_issues=critical,
        issues=[_issue(v) for v in failed],
        pending=pending,
        not_applicable=[f"{v.item.id} {v.item.title}: {v.message}" for v in items.values() if v.status == NA],
        waived=[f"{v.item.id} {v.item.title}: {waiver_text(v)}" for v in items.values() if v.status == WAIVED],
    )


def _score_value(views: list[ItemView]) -> int:
    return max(1, 5 - math.ceil(sum(PENALTY[v.item.severity] for v in views if v.failed)))


def scores(items: dict[str, ItemView], result: Overall) -> list[Score]:
    """Score 1-5 per quality aspect, then the Overall row."""
    rows: list[Score] = []
    for aspect in catalogue.ASPECTS:
        views = [v for v in items.values() if v.item.aspect == aspect]
        decided = [v for v in views if v.decided]
        failed = [v for v in views if v.failed]
        undecided = len(views) - len(decided)
        value = _score_value(views) if decided else None
        parts = [f"{v.item.id} {v.status} ({v.item.severity})" for v in failed]
        waived = [v.item.id for v in views if v.status == WAIVED]
        if not failed and decided:
            passed = sum(1 for v in decided if v.status == PASS)
            parts.append(f"{passed} pass, {len(decided) - passed - len(waived)} n/a")
        if waived:
            parts.append(f"waived: {', '.join(waived)}")
        if undecided:
            parts.append(f"{undecided} of {len(views)} not decided yet")
        rows.append(Score(aspect, value, final=undecided == 0, notes="; ".join(parts)))
    values = [s.value for s in rows if s.value is not None]
    if not values:
        rows.append(Score("Overall", None, final=False, notes="nothing decided yet"))
        return rows
    value = math.floor(sum(values) / len(values) + 0.5)
    notes = f"mean of the aspects {sum(values) / len(values):.1f}"
    if result.status == CRITICAL_FAILURE:
        value, notes = 1, notes + "; critical failure caps Overall at 1"
    elif result.issues:
        value, notes = min(value, 4), notes + "; failures cap Overall at 4"
    rows.append(Score("Overall", value, final=all(s.final for s in rows), notes=notes))
    return rows


def _ids(views: list[ItemView], limit: int = 3, status: bool = False) -> str:
    shown = "; ".join(f"{v.item.id} {v.status + ' ' if status else ''}{v.message}" for v in views[:limit])
    return shown + (f"; +{len(views) - limit} more" if len(views) > limit else "")


def verdict(items: dict[str, ItemView], phases: dict[str, PhaseResult], signoffs: list[dict[str, Any]] | None = None) -> Verdict:
    """GO / NO-GO / ROLLBACK, with the reason, in the order an operator must act on them."""
    failed = [v for v in items.values() if v.failed]
    dump = dump_to_restore(items)
    loss = [v for v in failed if v.item.phase == "5" and v.status == FAIL]
    if loss:
        return Verdict(ROLLBACK, f"DATA LOSS DETECTED ({_ids(loss)}); restore {dump}")
    after = [v for v in failed if v.item.phase in ("2", "3", "4", "6") and v.status == FAIL and v.item.severity == catalogue.CRITICAL]
    if after:
        reason = f"critical failure after deployment ({_ids(after)}); roll back, restore {dump} if needed"
        return Verdict(ROLLBACK, reason)
    phase0 = [v for v in failed if v.item.phase == "0"]
    if phase0:
        return Verdict(NO_GO, f"ABORT & ROLLBACK: phase 0 failed ({_ids(phase0)})")
    backup = [v for v in failed if v.item.phase == "1"]
    if backup:
        return Verdict(NO_GO, f"ABORT: backup failed ({_ids(backup)})")
    serious = [v for v in failed if v.status == FAIL and v.item.severity in (catalogue.CRITICAL, catalogue.HIGH)]
    if serious:
        return Verdict(NO_GO, f"investigate before going on ({_ids(serious)})")
    # A check that could not run proves nothing: whatever its severity, no GO on it.
    unverified = [v for v in failed if v.status == ERROR and v.item.phase in COUNTED_PHASES]
    if unverified:
        return Verdict(NO_GO, f"not verified: {_ids(unverified, status=True)}")
    rejected = latest_signoffs(signoffs or [])
    rejections = [s for s in rejected.values() if s.get("decision") in ("REJECT", "ISSUES FOUND")]
    if rejections:
        who = ", ".join(f"{s['role']} ({s['name']})" for s in rejections)
        return Verdict(NO_GO, f"sign-off rejected by {who}")
    if phases["0"].state != PHASE_PASS:
        state = phases["0"].state.lower()
        return Verdict(NO_GO, f"phase 0 (the go/no-go validation) {state} yet (run: pytest -m phase0)")
    done = [p for p in COUNTED_PHASES if phases[p].state == PHASE_PASS]
    todo = [p for p in (*COUNTED_PHASES, "7") if phases[p].state not in (PHASE_PASS, PHASE_FAIL)]
    reason = f"phases {_ranges(done)} passed" if len(done) > 1 else "phase 0 passed"
    na = [v.item.id for v in items.values() if v.status == NA]
    if na:  # an item that does not apply is said, never hidden inside a GO
        reason += f"; {len(na)} item{'s' if len(na) > 1 else ''} N/A: {', '.join(na)}"
    waived = [v.item.id for v in items.values() if v.status == WAIVED]
    if waived:  # nor a waived one
        reason += f"; {len(waived)} item{'s' if len(waived) > 1 else ''} WAIVED: {', '.join(waived)}"
    if todo:
        reason += f"; still to do: phase {_ranges(todo)}"
    if failed:
        reason += f"; minor issues: {_ids(failed)}"
    return Verdict(GO, reason)


def _ranges(phases: list[str]) -> str:
    """['0','1','2','4'] -> '0-2, 4'."""
    runs: list[list[int]] = []
    for n in sorted(int(p) for p in phases):
        if runs and n == runs[-1][-1] + 1:
            runs[-1].append(n)
        else:
            runs.append([n])
    return ", ".join(str(r[0]) if len(r) == 1 else f"{r[0]}-{r[-1]}" for r in runs)


def latest_signoffs(signoffs: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The sign-off in force per role (a later one replaces an earlier one of the same role)."""
    latest: dict[str, dict[str, Any]] = {}
    for event in signoffs:
        latest[event["role"]] = event
    return latest


def summary(items: dict[str, ItemView], phases: dict[str, PhaseResult], result: Overall) -> Summary:
    views = list(items.values())
    na = sum(1 for v in views if v.status == NA)
    return Summary(
        phases_completed=sum(1 for p in COUNTED_PHASES if phases[p].state == PHASE_PASS),
        phases_total=len(COUNTED_PHASES),
        tests_passed=sum(1 for v in views if v.status == PASS),
        tests_total=len(views) - na,
        failed=sum(1 for v in views if v.failed),
        not_applicable=na,
        pending=len(result.pending),
        critical_issues=len(result.critical_issues),
        waived=sum(1 for v in views if v.status == WAIVED),
    )
