"""Phase 7 (and P.1): the result a person recorded with `deploylog record`, as a CheckResult.

The phase 7 tests call result_for(): MANUAL (pending) until a result is
recorded, then the recorded PASS/FAIL with the tester, time and notes.
"""

from __future__ import annotations

from typing import Any

from deploylog.log import actions
from deploylog.log.model import manual_entry
from deploylog.log.state import events, load
from deploylog.result import MANUAL, CheckResult


def result_for(spec: Any, item_id: str) -> CheckResult:
    t = actions.target(spec)
    current = load(t.state_path)
    recorded = [e for e in events(current, "manual") if e["item"] == item_id] if current else []
    if not recorded:
        return CheckResult(
            item=item_id,
            status=MANUAL,
            message=f"pending: no result recorded yet; record it with "
            f"`deploylog record {item_id} PASS|FAIL --tester NAME --notes TEXT`",
        )
    last = recorded[-1]
    notes = f": {last['notes']}" if last.get("notes") else ""
    return CheckResult(
        item=item_id,
        status=last["status"],
        message=f"recorded {last['status']} by {last['tester']} at {last['time']}{notes}",
        evidence=manual_entry(last)["evidence"],
    )
