"""Presentation shared by the Markdown and HTML logs: the template's wording per
item (its Status boxes and block names), times, and the Actual Result text."""

from __future__ import annotations

import datetime as dt
from typing import Any

from deploylog import figures
from deploylog.log import signatures
from deploylog.log.rules import ItemView, waiver_text
from deploylog.log.signatures import EventSignature
from deploylog.log.state import parse_time
from deploylog.result import ERROR, FAIL, MANUAL, NA, PASS, SKIP, WAIVED

TICK = "☑"
EMPTY = "☐"

# The template's block name per phase ("### Test 0.1", "### Backup 1.1", ...).
BLOCK_NAMES = {
    "0": "Test",
    "1": "Backup",
    "2": "Deploy",
    "3": "Restart",
    "4": "Test",
    "5": "Integrity",
    "6": "Logs",
    "7": "Test",
    "P": "Check",
}

# The template's Status boxes per item: (labels ticked on PASS, labels ticked on FAIL).
STATUS_LABELS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "0.3": (("RECORDED",), ("NOT RECORDED",)),
    "1.1": (("CREATED", "VERIFIED"), ("FAILED",)),
    "1.2": (("CREATED", "VERIFIED"), ("FAILED",)),
    "1.3": (("COMPLETE",), ("MISSING",)),
    "2.2": (("EXPECTED FILES CHANGED",), ("UNEXPECTED CHANGES",)),
    "2.3": (("ALL OK",), ("SYNTAX ERROR (ABORT)",)),
    "2.4": (("CORRECT VERSION",), ("WRONG VERSION (ABORT)",)),
    "3.1": (("STOPPED",), ("FAILED TO STOP",)),
    "3.2": (("CACHE CLEARED",), ("FAILED",)),
    "3.3": (("STARTED",), ("FAILED TO START",)),
    "3.4": (("SERVICE HEALTHY",), ("ERRORS DETECTED",)),
    "4.2": (("VERIFIED",), ("NOT FOUND",)),
    "4.3": (("VERIFIED",), ("NOT FOUND",)),
    "4.4": (("VERIFIED",), ("NOT FOUND",)),
    "4.5": (("HEALTHY",), ("ANOMALIES DETECTED",)),
    "4.6": (("MEMBERS EXIST",), ("NO MEMBERS (ISSUE)",)),
    "4.7": (("NO ORPHANS",), ("ORPHANS FOUND (ISSUE)",)),
    "5.1": (("MATCH",), ("MISMATCH (DATA LOSS!)",)),
    "5.2": (("MATCH",), ("MISMATCH",)),
    "5.3": (("MATCH",), ("MISMATCH",)),
    "5.4": (("MATCH",), ("MISMATCH (CRITICAL!)",)),
    "6.1": (("NO ERRORS",), ("ERRORS PRESENT (Review below)",)),
    "6.2": (("NO MODULE ERRORS",), ("MODULE ERRORS (DETAILS BELOW)",)),
    "6.3": (("NO ERRORS TO DETAIL",), ("ERROR DETAILS ABOVE",)),
}
DEFAULT_LABELS = (("PASS",), ("FAIL",))
# phase 5's items are the deployment's ([[protect]]): the template's words for its own four, these for any other
PHASE_LABELS = {"5": (("MATCH",), ("MISMATCH",))}

# What an undecided status says next to its empty boxes.
UNDECIDED_NOTES = {
    NA: "N/A",
    SKIP: "NOT RUN",
    MANUAL: "PENDING (manual)",
}


def box(ticked: bool) -> str:
    return TICK if ticked else EMPTY


def fmt_time(text: str) -> str:
    """ISO time -> '2025-12-22 10:15:03 UTC' ('' stays '')."""
    if not text:
        return ""
    try:
        value = parse_time(text).astimezone(dt.UTC)
    except Exception:
        return text
    return value.strftime("%Y-%m-%d %H:%M:%S UTC")


def fmt_date(text: str) -> str:
    return fmt_time(text)[:10]


def status_options(view: ItemView) -> list[tuple[str, bool]]:
    """The Status line's boxes for an item, ticked only where its result decided them."""
    ok, bad = STATUS_LABELS.get(view.item.id) or PHASE_LABELS.get(view.item.phase, DEFAULT_LABELS)
    passed = view.status == PASS
    # a waived failure did fail: its failure boxes are ticked, and the words after them say it is waived
    failed = view.status in (FAIL, ERROR) or (view.status == WAIVED and view.waived_status in (FAIL, ERROR))
    return [(label, passed) for label in ok] + [(label, failed) for label in bad]


def status_suffix(view: ItemView) -> str:
    """Words after the boxes: why nothing is ticked, or that the check itself errored."""
    if view.status == ERROR:
        return "(ERROR: the check could not run)"
    if view.status == WAIVED:
        return f"WAIVED ({waiver_text(view)})"
    if view.status in UNDECIDED_NOTES:
        return UNDECIDED_NOTES[view.status]
    return ""


def waiver_line(entry: dict[str, Any]) -> str:
    """One waiver as the log lists it (the waivers the last run read)."""
    state = "in force" if entry.get("state") == "in force" else f"EXPIRED on {entry.get('expires', '')}: ignored"
    runs = "" if entry.get("run", True) else "; the item is not run"
    return (
        f"{entry.get('item', '')}: {state}; until {entry.get('expires', '')}; approved by {entry.get('approved_by', '')}; "
        f"{entry.get('justification', '')}{runs}"
    )


def expected_lines(view: ItemView) -> list[str]:
    return [part.strip() for part in view.item.expected.split(";") if part.strip()]


def comparison_lines(integrity: figures.Integrity) -> list[str]:
    """The template's three lines per compared figure (pre, post, difference), under its label when several."""
    several = len(integrity.comparisons) > 1
    lines = []
    for c in integrity.comparisons:
        difference = "n/a" if c.difference is None else f"{c.difference:+d}"
        block = [
            f"Pre-deployment count: {'n/a' if c.baseline is None else c.baseline}",
            f"Post-deployment count: {'n/a' if c.current is None else c.current}",
            f"Difference: {difference}",
        ]
        lines += [f"{c.label}:", *(f"  {line}" for line in block)] if several else block
    return lines


def actual_result(view: ItemView) -> str:
    """The Actual Result block: evidence per host (or the one-line message), phase 5 counts first."""
    if not view.entries:
        return view.message
    blocks = []
    for entry in view.entries:
        lines = []
        if len(view.entries) > 1 and entry.get("host"):
            lines.append(f"[host {entry['host']}]")
        typed = figures.from_dict(entry.get("figures"))
        if isinstance(typed, figures.Integrity):
            lines += comparison_lines(typed)
        evidence = (entry.get("evidence") or "").rstrip()
        message = entry.get("message") or ""
        if evidence:
            lines.append(evidence)
            if message and message not in evidence:
                lines.append(f"=> {message}")
        else:
            lines.append(message)
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks)


def queries(view: ItemView) -> list[str]:
    seen: list[str] = []
    for entry in view.entries:
        for query in entry.get("queries") or []:
            if query not in seen:
                seen.append(query)
    return seen


def ran_line(view: ItemView) -> str:
    """Where and when the current result came from."""
    parts = []
    for entry in view.entries:
        where = f" on {entry['host']}" if entry.get("host") else ""
        when = fmt_time(entry.get("finished", ""))
        took = f", {entry['duration']:.2f} s" if entry.get("duration") else ""
        parts.append(f"{entry.get('run', '')}{where} at {when}{took}".strip())
    return "; ".join(parts)


def attempt_line(entry: dict[str, Any]) -> str:
    host = f" [{entry['host']}]" if entry.get("host") else ""
    when = fmt_time(entry.get("finished", ""))
    return f"{entry.get('run', '')} {when}{host}: {entry['status']} — {entry.get('message', '')}"


def signature_text(event: dict[str, Any], signed: list[EventSignature]) -> str:
    """A sign-off's Signature line: whose key signed it (or that nothing did), the digest it approved, what that covers."""
    when = fmt_time(event.get("recorded", ""))
    mine = next((s for s in signed if s.seq == event.get("seq")), None)
    if mine is not None and mine.signed:
        by = f"OpenSSH signature by {mine.principal} ({mine.fingerprint})"
    else:
        by = f"unsigned ({signatures.NOT_TAMPER_PROOF})"
    covers = signatures.coverage(int(event.get("seq") or 0), len(signed))
    return f"{by}; recorded by deploylog at {when}; log digest {event.get('log_digest', '')[:16]}…, {covers}"


def set_aside_line(moved: dict[str, Any]) -> str:
    """The header's warning that this log starts after a damaged state was moved aside."""
    return (
        f"earlier state set aside at {fmt_time(moved.get('at', ''))}: {moved.get('path', '')} ({moved.get('reason', '')}); "
        "the results recorded before it are NOT in this log"
    )
