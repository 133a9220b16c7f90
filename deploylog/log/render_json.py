"""LogView -> execution-log.json (the machine-readable contract of PRODUCT.md).

items.<id>.status is one of PASS FAIL SKIP NA MANUAL WAIVED: ERROR (the check
could not run) is reported as FAIL with "detail_status": "ERROR"; an item never
run is SKIP, a phase 7 item not yet recorded is MANUAL. WAIVED (only where a
waivers file is in force) carries `waived_status` (FAIL, ERROR, or SKIP: not
run) and `waiver` (justification, approved_by, expires, run). `not_in_runbook`: the built-in
items deploy.toml leaves out of this deployment's runbook (id -> why); they are not in `items`.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any

from deploylog.log import present, signatures
from deploylog.log.model import LogView
from deploylog.log.rules import ItemView, contract_status
from deploylog.result import WAIVED

FORMAT = "deploylog-execution-log/1"


def _item(v: ItemView) -> dict[str, Any]:
    waived = {"waived_status": v.waived_status, "waiver": v.waiver} if v.status == WAIVED else {}
    return {
        "status": contract_status(v.status),
        "detail_status": v.status,
        "title": v.item.title,
        "phase": v.item.phase,
        "severity": v.item.severity,
        "aspect": v.item.aspect,
        "origin": v.item.origin,
        "expected": v.item.expected,
        "evidence": present.actual_result(v),
        "message": v.message,
        "queries": present.queries(v),
        "figures": v.figures,
        "results": v.entries,
        "attempts": v.attempts,
        "manual": v.manual,
        **waived,
    }


def document(view: LogView) -> dict[str, Any]:
    return {
        "format": FORMAT,
        "deployment": view.meta.as_dict(),
        "odoo": view.odoo,
        "set_aside": view.set_aside,
        "not_in_runbook": view.not_in_runbook,
        "items": {item_id: _item(v) for item_id, v in view.items.items()},
        "phases": {
            p: {
                "state": r.state,
                "result": [label for label, ticked in r.options if ticked],
                "note": r.note,
                "started": r.started,
                "finished": r.finished,
                "counts": r.counts,
            }
            for p, r in view.phases.items()
        },
        "overall": view.overall.status,
        "overall_final": view.overall.final,
        "pending": view.overall.pending,
        "critical_issues": view.overall.critical_issues,
        "issues": view.overall.issues,
        "not_applicable": view.overall.not_applicable,
        "waived": view.overall.waived,
        "waivers": view.waivers,
        "verdict": {"decision": view.verdict.word, "reason": view.verdict.reason},
        "summary": asdict(view.summary),
        "scores": {s.aspect: {"score": s.value, "final": s.final, "notes": s.notes} for s in view.scores},
        "window": {"start": view.window_start, "end": view.window_end, "duration_minutes": view.duration_minutes},
        "runs": [asdict(r) for r in view.runs],
        "signoffs": [{**e, "covers": signatures.coverage(e["seq"], len(view.signatures))} for e in view.signoff_history],
        "signatures": {
            "statement": signatures.statement(view.signatures),
            "events": [asdict(s) for s in view.signatures],
        },
        "incidents": view.incidents,
        "attachments": view.attachments,
        "baseline": {"path": view.baseline.path, "digest": view.baseline.digest, "note": view.baseline.note},
        "saved": view.saved,
        "digest": view.digest,
    }


def render(view: LogView) -> str:
    return json.dumps(document(view), indent=2, ensure_ascii=False) + "\n"
