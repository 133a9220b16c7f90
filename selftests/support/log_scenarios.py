"""Deployment states for the log's self-tests, built as the reporter and the CLI
write them (events with results), without pytest or a database."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from deploylog import catalogue, protect
from deploylog import spec as spec_mod
from deploylog.figures import Comparison, Distribution, Dump, Integrity
from deploylog.log import model, records
from deploylog.log.meta import BaselineRef, Meta
from deploylog.log.state import new_state
from deploylog.result import PASS

T0 = dt.datetime(2025, 12, 22, 9, 0, tzinfo=dt.UTC)
DUMP = "/var/odoo/backups/osusproperties_PRE_DEPLOY_20251222_0915.dump"
NO_BASELINE = BaselineRef("", "", "no baseline found: the log digest is chained over the empty string")
PHASE_RUNS = {"preflight": ("P",), "phase0": ("0",), "post": ("1", "2", "3", "4", "5", "6")}
# Phase 5's items are the shipped deploy.toml's [[protect]] items (5.1-5.4): a run records their definitions.
SHIPPED = spec_mod.load(Path(__file__).resolve().parents[2] / "deploy.toml")
PROTECTED = protect.definitions(SHIPPED)
# Every item of the template's log: the built-in ones and the shipped deploy.toml's phase-5 items, in the log's order.
TEMPLATE_ITEMS = catalogue.merged(PROTECTED.values())


def items_of_phase(phase: str) -> list[catalogue.Item]:
    return [i for i in TEMPLATE_ITEMS.values() if i.phase == phase]


def meta(report_dir: str = "/tmp/reports", baseline_path: str = "") -> Meta:
    return Meta(
        deployment_id="osusproperties-payment_account_enhanced-17.0.1.0.9",
        module="payment_account_enhanced",
        title="Payment Workflow Hardening",
        expected_version="17.0.1.0.9",
        previous_version="17.0.1.0.8",
        database="osusproperties",
        dsn="dbname=osusproperties password=***",
        report_dir=report_dir,
        baseline_path=baseline_path,
    )


def at(minutes: float) -> str:
    return (T0 + dt.timedelta(minutes=minutes)).isoformat(timespec="milliseconds")


def figures_for(item_id: str) -> dict[str, Any]:
    """The figures the real checks put on their results (charts and the dump to restore), as they serialise."""
    if item_id == "1.1":
        return Dump(DUMP, 73400320, "0" * 64).to_dict()
    if item_id == "4.5":
        return Distribution({"draft": 12, "under_review": 4, "approved": 7, "posted": 131, "cancelled": 2}).to_dict()
    if item_id.startswith("5."):
        base = {"5.1": 150, "5.2": 80, "5.3": 40, "5.4": 120}[item_id]
        return integrity(base, base)
    return {}


def integrity(baseline: int, current: int, label: str = "count") -> dict[str, Any]:
    return Integrity((Comparison(label, baseline, current),), "set", baseline != current).to_dict()


def entry(item_id: str, status: str = PASS, minute: float = 0.0, message: str = "", **kw: Any) -> dict[str, Any]:
    figures = {**figures_for(item_id), **kw.pop("figures", {})}
    return {
        "item": item_id,
        "nodeid": f"tests/test_{item_id}.py::test_{item_id.replace('.', '_')}",
        "host": kw.pop("host", ""),
        "status": status,
        "message": message or f"{item_id} {status.lower()}",
        "detail": "recorded result",
        "evidence": kw.pop("evidence", f"evidence of {item_id}"),
        "queries": kw.pop("queries", [f"SELECT 1 -- {item_id}"]),
        "figures": figures,
        "duration": 0.5,
        "started": at(minute),
        "finished": at(minute + 0.01),
    }


def run(
    phases: tuple[str, ...], minute: float, overrides: dict[str, dict[str, Any]] | None = None, command: str = "pytest"
) -> dict[str, Any]:
    """A run event: every item of the phases PASS, except the overridden ones (status/message/figures)."""
    overrides = overrides or {}
    results = []
    for n, item in enumerate(i for p in phases for i in items_of_phase(p)):
        results.append(entry(item.id, minute=minute + n * 0.05, **overrides.get(item.id, {})))
    defined = [PROTECTED[k].to_dict() for k in sorted(PROTECTED)] if "5" in phases else []
    return {
        **({"items": defined} if defined else {}),
        "type": "run",
        "started": at(minute),
        "finished": at(minute + 3),
        "recorded": at(minute + 3),
        "command": command,
        "hostname": "deploy-host",
        "exit_status": 1 if any(r["status"] != PASS for r in results) else 0,
        "results": results,
    }


def manual(item_id: str, status: str = PASS, minute: float = 600) -> dict[str, Any]:
    event = records.manual_event(item_id, status, "Quinn QA", f"{item_id} done by hand", at(minute))
    event["recorded"] = at(minute)
    return event


def signoff(role: str, decision: str = "APPROVE", minute: float = 700) -> dict[str, Any]:
    event = records.signoff_event(role, f"{role.title()} Person", decision, at(minute))
    event["recorded"] = at(minute)
    return event


def state_of(*events: dict[str, Any]) -> dict[str, Any]:
    state = new_state(meta().deployment_id, meta().as_dict())
    for n, event in enumerate(events, 1):
        state["events"].append({**event, "seq": n})
    return state


def view(state: dict[str, Any], baseline: BaselineRef = NO_BASELINE) -> model.LogView:
    return model.build(state, meta(), baseline)


# The five scenarios of issue 4.
def all_pass() -> dict[str, Any]:
    return state_of(
        run(PHASE_RUNS["preflight"], 0, command="pytest -m preflight"),
        run(PHASE_RUNS["phase0"], 60, command="pytest -m phase0"),
        run(PHASE_RUNS["post"], 90, command="pytest -m post"),
        *(manual(i.id, minute=600 + n) for n, i in enumerate(items_of_phase("7"))),
        signoff("devops"),
        signoff("finance"),
        signoff("qa"),
    )


def phase0_abort() -> dict[str, Any]:
    failing = {"0.1": {"status": "FAIL", "message": "posted payments 42 <= 100"}}
    return state_of(
        run(PHASE_RUNS["preflight"], 0, command="pytest -m preflight"),
        run(PHASE_RUNS["phase0"], 60, failing, command="pytest -m phase0"),
    )


def phase5_data_loss() -> dict[str, Any]:
    loss = {
        "5.4": {
            "status": "FAIL",
            "message": "reconciled payments 119 != baseline 120 (-1)",
            "figures": integrity(120, 119),
        }
    }
    return state_of(
        run(PHASE_RUNS["preflight"], 0),
        run(PHASE_RUNS["phase0"], 60),
        run(PHASE_RUNS["post"], 90, loss, command="pytest -m post"),
    )


def phase7_pending() -> dict[str, Any]:
    return state_of(run(PHASE_RUNS["preflight"], 0), run(PHASE_RUNS["phase0"], 60), run(PHASE_RUNS["post"], 90))


def rerun_after_failure() -> dict[str, Any]:
    first = {
        "5.1": {"status": "FAIL", "message": "payments 149 != baseline 150 (-1)", "figures": integrity(150, 149)},
        "3.4": {"status": "ERROR", "message": "health URL did not answer"},
    }
    return state_of(
        run(PHASE_RUNS["preflight"], 0),
        run(PHASE_RUNS["phase0"], 60),
        run(PHASE_RUNS["post"], 90, first, command="pytest -m post"),
        run(PHASE_RUNS["post"], 120, command="pytest -m post"),
    )
