"""Manual items (P.1, phase 7): the result a person recorded with `deploylog record`, as a CheckResult.

Pure: it is given the recorded events of one item (read from the log's state
by the caller) and says MANUAL (pending) until one exists, then the latest
recorded PASS/FAIL with the tester, time and notes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from deploylog.result import MANUAL, CheckResult


def evidence(event: Mapping[str, Any]) -> str:
    """The Actual Result of a recorded manual result: scheduled, tester, time, notes."""
    lines = [f"Tester: {event.get('tester', '')}", f"Time: {event.get('time', '')}"]
    if event.get("scheduled"):
        lines.insert(0, f"Scheduled: {event['scheduled']}")
    lines.append(f"Notes: {event.get('notes', '') or '(none)'}")
    return "\n".join(lines)


def pending_message(item_id: str) -> str:
    return f"pending: no result recorded yet; record it with `deploylog record {item_id} PASS|FAIL --tester NAME --notes TEXT`"


def result_for(item_id: str, records: Sequence[Mapping[str, Any]]) -> CheckResult:
    """The result in force for a manual item: its latest record, or MANUAL while there is none."""
    if not records:
        return CheckResult(item=item_id, status=MANUAL, message=pending_message(item_id))
    last = records[-1]
    notes = f": {last['notes']}" if last.get("notes") else ""
    return CheckResult(
        item=item_id,
        status=str(last["status"]),
        message=f"recorded {last['status']} by {last.get('tester', '')} at {last.get('time', '')}{notes}",
        evidence=evidence(last),
    )
