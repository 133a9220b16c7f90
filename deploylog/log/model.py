"""State (+ deployment meta + baseline) -> the LogView every renderer draws.

Which result is current: a run replaces the current result of every item it
ran (all hosts of it); results of earlier runs stay as the item's attempts.
For the manual items (phase 7 and P.1) a result recorded with the CLI is in
force over any run's; the pending (MANUAL) mirrors of the phase 7 tests are
not listed as attempts.

The log's catalogue is the built-in items plus the deployment's own ones its
runs recorded (a test's `@pytest.mark.item("4.8", title=...)`, a [[checks]]
entry): each joins its phase's section, the scores and the totals. A built-in
item the latest run's deploy.toml leaves out of the runbook (runbook.py) is not
in it at all, unless a result of its was recorded; the header names it and why.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from deploylog import catalogue, manual, runbook
from deploylog.log import chain, query, rules, signatures
from deploylog.log.meta import BaselineRef, Meta
from deploylog.log.signatures import EventSignature
from deploylog.log.state import events, parse_time
from deploylog.result import MANUAL

MANUAL_ITEMS = frozenset({"P.1", *(i.id for i in catalogue.items_of_phase("7"))})


@dataclass
class RunView:
    number: int
    seq: int
    started: str
    finished: str
    command: str
    hostname: str
    exit_status: int | None
    counts: dict[str, int]
    phases: list[str]
    snapshots: list[str] = field(default_factory=list)  # the database snapshot each process read
    odoo: list[str] = field(default_factory=list)  # the Odoo version and layout the snapshot found


@dataclass
class LogView:
    meta: Meta
    baseline: BaselineRef
    items: dict[str, rules.ItemView]
    phases: dict[str, rules.PhaseResult]
    overall: rules.Overall
    scores: list[rules.Score]
    verdict: rules.Verdict
    summary: rules.Summary
    runs: list[RunView]
    signoffs: dict[str, dict[str, Any]]  # in force, per role
    signoff_history: list[dict[str, Any]]
    incidents: list[dict[str, Any]]
    attachments: list[dict[str, Any]]
    window_start: str
    window_end: str
    duration_minutes: int | None
    saved: str  # time of the last event: the document's date, so a re-render is byte-identical
    digest: str
    testers: list[str] = field(default_factory=list)
    set_aside: list[dict[str, Any]] = field(default_factory=list)  # damaged states this log replaced
    signatures: list[EventSignature] = field(default_factory=list)  # who signed each event, as recorded
    waivers: list[dict[str, Any]] = field(default_factory=list)  # the waivers the last run read (in force or expired)
    not_in_runbook: dict[str, str] = field(default_factory=dict)  # built-in items deploy.toml leaves out, and why

    @property
    def not_in_runbook_lines(self) -> list[str]:
        """'P.6, 0.4, 4.6: deploy.toml has no [groups]', one line per reason (the header's words)."""
        return runbook.grouped(self.not_in_runbook)

    def items_of_phase(self, phase: str) -> list[rules.ItemView]:
        """The items of one phase section, built-in and the deployment's own, in the log's order."""
        return [v for v in self.items.values() if v.item.phase == phase]

    @property
    def odoo(self) -> str:
        """The Odoo version and layout found by the latest run that read the database ('' before any)."""
        return next(("; ".join(run.odoo) for run in reversed(self.runs) if run.odoo), "")

    def set_aside_by(self, seq: int) -> dict[str, Any] | None:
        """The damaged state the event `seq` moved aside: only the first event of a new state can have."""
        return self.set_aside[-1] if self.set_aside and seq == 1 else None


def manual_entry(event: dict[str, Any]) -> dict[str, Any]:
    """A recorded manual result, shaped like a run entry."""
    return {
        "item": event["item"],
        "nodeid": "",
        "host": "",
        "status": event["status"],
        "message": event.get("notes", "") or f"recorded {event['status']} by {event.get('tester', '')}",
        "evidence": manual.evidence(event),
        "queries": [],
        "figures": {},
        "duration": 0.0,
        "started": event.get("time", ""),
        "finished": event.get("time", ""),
        "run": f"manual #{event['seq']}",
        "recorded": event.get("recorded", ""),
        "tester": event.get("tester", ""),
        "scheduled": event.get("scheduled", ""),
    }


def _runs(state: dict[str, Any]) -> list[tuple[int, dict[str, Any]]]:
    return list(enumerate(events(state, "run"), start=1))


def not_in_runbook(state: dict[str, Any]) -> dict[str, str]:
    """The built-in items the latest run's deploy.toml left out of the runbook, and why ({} before any run)."""
    runs = events(state, "run")
    return dict(runs[-1].get("not_in_runbook") or {}) if runs else {}


def _item_views(state: dict[str, Any], outside: dict[str, str]) -> dict[str, rules.ItemView]:
    """Every item of the log's catalogue but those outside the runbook (unless a result of theirs was recorded)."""
    per_item_runs: dict[str, list[tuple[int, list[dict[str, Any]]]]] = {}
    for number, run in _runs(state):
        grouped: dict[str, list[dict[str, Any]]] = {}
        for entry in run.get("results", []):
            grouped.setdefault(entry["item"], []).append({**entry, "run": f"run {number}"})
        for item_id, entries in grouped.items():
            per_item_runs.setdefault(item_id, []).append((number, entries))
    manual: dict[str, list[dict[str, Any]]] = {}
    for event in events(state, "manual"):
        manual.setdefault(event["item"], []).append(event)

    views: dict[str, rules.ItemView] = {}
    for item in catalogue.merged(query.defined_items(state).values()).values():
        if item.id in outside and item.id not in per_item_runs and item.id not in manual:
            continue  # not this deployment's item: never a SKIP, never in the totals
        history = per_item_runs.get(item.id, [])
        current = history[-1][1] if history else []
        attempts = [e for _, entries in history[:-1] for e in entries]
        recorded = manual.get(item.id, [])
        in_force = None
        if item.id in MANUAL_ITEMS:
            # A phase 7 test only mirrors the record in force when it ran: its entries are no attempt.
            runs = [] if item.phase == "7" else [e for e in attempts + current if e["status"] != MANUAL]
            if recorded:
                in_force = recorded[-1]
                attempts = sorted(runs + [manual_entry(e) for e in recorded[:-1]], key=_finished)
                current = [manual_entry(in_force)]
            else:
                attempts = [e for e in attempts if e["status"] != MANUAL] if item.phase != "7" else []
        status = rules.item_status([e["status"] for e in current], item.phase)
        if current:
            message = "; ".join(_host_prefix(e, len(current)) + (e.get("message") or "") for e in current)
        elif status == MANUAL:
            message = f"pending: record it with `deploylog record {item.id} PASS|FAIL --tester NAME`"
        else:
            message = "not run"
        views[item.id] = rules.ItemView(item, status, message, current, attempts, in_force)
    return views


def _finished(entry: dict[str, Any]) -> dt.datetime:
    text = entry.get("finished") or ""
    return parse_time(text) if text else dt.datetime.min.replace(tzinfo=dt.UTC)


def _host_prefix(entry: dict[str, Any], count: int) -> str:
    return f"[{entry['host']}] " if count > 1 and entry.get("host") else ""


def _run_views(state: dict[str, Any]) -> list[RunView]:
    out = []
    for number, run in _runs(state):
        counts: dict[str, int] = {}
        phases: list[str] = []
        for entry in run.get("results", []):
            counts[entry["status"]] = counts.get(entry["status"], 0) + 1
            phase = entry["item"].split(".")[0]
            if phase not in phases:
                phases.append(phase)
        out.append(
            RunView(
                number=number,
                seq=run["seq"],
                started=run.get("started", ""),
                finished=run.get("finished", ""),
                command=run.get("command", ""),
                hostname=run.get("hostname", ""),
                exit_status=run.get("exit_status"),
                counts=counts,
                phases=sorted(phases, key=lambda p: list(catalogue.PHASES).index(p) if p in catalogue.PHASES else 99),
                snapshots=list(run.get("snapshots") or []),
                odoo=list(run.get("odoo") or []),
            )
        )
    return out


def _window(runs: list[RunView]) -> tuple[str, str, int | None]:
    """The deployment window: first to last run that ran phases 0-6 (else all runs)."""
    deploying = [r for r in runs if any(p in rules.COUNTED_PHASES for p in r.phases)] or runs
    starts = [r.started for r in deploying if r.started]
    ends = [r.finished for r in deploying if r.finished]
    if not starts or not ends:
        return "", "", None
    start, end = min(starts), max(ends)
    minutes = (parse_time(end) - parse_time(start)) / dt.timedelta(minutes=1)
    return start, end, max(0, round(minutes))


def build(state: dict[str, Any], meta: Meta, baseline: BaselineRef) -> LogView:
    outside = not_in_runbook(state)
    items = _item_views(state, outside)
    phases = rules.phase_results(items)
    overall = rules.overall(items, phases)
    signoff_events = events(state, "signoff")
    runs = _run_views(state)
    start, end, minutes = _window(runs)
    all_events = state["events"]
    return LogView(
        meta=meta,
        baseline=baseline,
        items=items,
        phases=phases,
        overall=overall,
        scores=rules.scores(items, overall),
        verdict=rules.verdict(items, phases, signoff_events),
        summary=rules.summary(items, phases, overall),
        runs=runs,
        signoffs=rules.latest_signoffs(signoff_events),
        signoff_history=signoff_events,
        incidents=events(state, "incident"),
        attachments=events(state, "attachment"),
        window_start=start,
        window_end=end,
        duration_minutes=minutes,
        saved=all_events[-1].get("recorded") or all_events[-1].get("finished", "") if all_events else "",
        digest=chain.head(state["deployment_id"], baseline.digest, all_events),
        testers=sorted({e.get("tester", "") for e in events(state, "manual") if e.get("tester")}),
        set_aside=list(state.get("set_aside") or []),
        signatures=signatures.of_state(state),
        waivers=_waivers(state),
        not_in_runbook={k: v for k, v in outside.items() if k not in items},
    )


def _waivers(state: dict[str, Any]) -> list[dict[str, Any]]:
    """The waivers of the last run that read a waivers file (each with its state then: in force or expired)."""
    read = [run["waivers"] for run in events(state, "run") if "waivers" in run]
    return list(read[-1]) if read else []
