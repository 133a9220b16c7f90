"""The shape a state file must have before anything is rendered from it.

A state edited by hand, written by another tool or truncated into valid JSON
would otherwise crash the renderers deep inside (`KeyError: 'item'`). Each
event type lists the keys the log reads and their types; the first problem
found is named in one line: which event (its seq) and which key.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from deploylog import catalogue, figures
from deploylog.result import ERROR, FAIL, MANUAL, NA, PASS, SKIP, WAIVED

STATUSES = (PASS, FAIL, ERROR, NA, SKIP, MANUAL, WAIVED)
TEXT = (str,)
NUMBER = (int, float)
OPTIONAL_INT = (int, type(None))

# key -> (allowed types, required)
Fields = dict[str, tuple[tuple[type, ...], bool]]

TOP: Fields = {
    "format": (TEXT, True),
    "deployment_id": (TEXT, True),
    "deployment": ((dict,), True),
    "events": ((list,), True),
    "set_aside": ((list,), False),
}
EVENT: dict[str, Fields] = {
    "run": {
        "results": ((list,), True),
        "started": (TEXT, False),
        "finished": (TEXT, False),
        "command": (TEXT, False),
        "hostname": (TEXT, False),
        "exit_status": (OPTIONAL_INT, False),
        "snapshots": ((list,), False),
        "items": ((list,), False),  # definitions of the deployment's own items
        "waivers": ((list,), False),
        "odoo": ((list,), False),
        "not_in_runbook": ((dict,), False),  # built-in item id -> why deploy.toml leaves it out
    },
    "manual": {"item": (TEXT, True), "status": (TEXT, True), "tester": (TEXT, False), "time": (TEXT, False)},
    "signoff": {"role": (TEXT, True), "name": (TEXT, True), "decision": (TEXT, True), "time": (TEXT, True)},
    "incident": {
        "time": (TEXT, True),
        "description": (TEXT, True),
        "severity": (TEXT, True),
        "resolution": (TEXT, True),
        "status": (TEXT, True),
        "approver": (TEXT, True),
    },
    "attachment": {"kind": (TEXT, True), "path": (TEXT, True), "size": (NUMBER, True), "sha256": (TEXT, True)},
}
# Every event may carry its signature record, or say why it was recorded unsigned (deploylog/log/signatures.py).
SIGNED: Fields = {"signature": ((dict,), False), "unsigned": (TEXT, False)}
SIGNATURE: Fields = {"principal": (TEXT, True), "fingerprint": (TEXT, True)}
RESULT: Fields = {
    "item": (TEXT, True),
    "status": (TEXT, True),
    "message": (TEXT, False),
    "evidence": (TEXT, False),
    "queries": ((list,), False),
    "figures": ((dict,), False),
    "host": (TEXT, False),
    "duration": (NUMBER, False),
    "started": (TEXT, False),
    "finished": (TEXT, False),
    "waived_status": (TEXT, False),
    "waiver": ((dict,), False),
}
# An item of the deployment's own, as a run records it: the log draws it like a built-in one.
DEFINITION: Fields = {key: (TEXT, True) for key in ("id", "phase", "title", "expected", "severity", "aspect")}
TIMES = ("started", "finished", "time")


def problem(data: Any, expected_format: str, event_types: tuple[str, ...]) -> str | None:
    """The first thing that makes data unusable as a state, in one line; None when it is sound."""
    if not isinstance(data, dict):
        return f"the file holds a JSON {type(data).__name__}, not a deploylog state object"
    found = _fields(data, TOP, "the state")
    if found:
        return found
    if data["format"] != expected_format:
        return f"format is {data['format']!r}, expected {expected_format!r}"
    for index, event in enumerate(data["events"]):
        found = _event(index, event, event_types)
        if found:
            return found
    return None


def _event(index: int, event: Any, event_types: tuple[str, ...]) -> str | None:
    if not isinstance(event, dict):
        return f"events[{index}] is a JSON {type(event).__name__}, not an event object"
    seq = event.get("seq")
    name = f"event seq {seq}" if isinstance(seq, int) and not isinstance(seq, bool) else f"event #{index + 1} (no integer 'seq')"
    kind = event.get("type")
    if kind not in event_types:
        return f"{name}: unknown type {kind!r} (one of {', '.join(event_types)})"
    if seq is None or isinstance(seq, bool) or not isinstance(seq, int):
        return f"{name}: 'seq' missing or not an integer"
    where = f"{name} ({kind})"
    found = _fields(event, {**EVENT[kind], **SIGNED}, where)
    if not found and "signature" in event:
        found = _fields(event["signature"], SIGNATURE, f"{where}: signature")
    if found or kind not in ("run", "manual"):
        return found
    if kind == "manual":
        return _status(event, where)
    for item_id, reason in (event.get("not_in_runbook") or {}).items():
        if not isinstance(reason, str):
            return f"{where}: not_in_runbook[{_short(item_id)}] is {type(reason).__name__} {_short(reason)}, expected str"
    for n, data in enumerate(event.get("items") or []):
        found = _definition(data, f"{where}: items[{n}]")
        if found:
            return found
    for n, entry in enumerate(event["results"]):
        at = f"{where}: results[{n}]"
        if not isinstance(entry, dict):
            return f"{at} is a JSON {type(entry).__name__}, not a result object"
        found = _fields(entry, RESULT, at) or _status(entry, at) or _figures(entry, at)
        if found:
            return found
    return None


def _definition(data: Any, where: str) -> str | None:
    if not isinstance(data, dict):
        return f"{where} is a JSON {type(data).__name__}, not an item definition"
    found = _fields(data, DEFINITION, where)
    if found:
        return found
    if catalogue.phase_of(data["id"]) != data["phase"]:
        return f"{where}: id {_short(data['id'])} is not an item of phase {_short(data['phase'])}"
    if data["severity"] not in catalogue.SEVERITIES or data["aspect"] not in catalogue.ASPECTS:
        return f"{where}: severity {_short(data['severity'])} or aspect {_short(data['aspect'])} unknown"
    return None


def _fields(obj: dict[str, Any], fields: Fields, where: str) -> str | None:
    for key, (types, required) in fields.items():
        if key not in obj:
            if required:
                return f"{where} has no {key!r}"
            continue
        value = obj[key]
        if not isinstance(value, types) or (isinstance(value, bool) and bool not in types):
            wanted = " or ".join("null" if t is type(None) else t.__name__ for t in types)
            return f"{where}: {key!r} is {type(value).__name__} {_short(value)}, expected {wanted}"
        if key in TIMES and isinstance(value, str) and value and not _is_time(value):
            return f"{where}: {key!r} is not an ISO time: {_short(value)}"
    return None


def _status(obj: dict[str, Any], where: str) -> str | None:
    if obj["status"] not in STATUSES:
        return f"{where}: 'status' is {_short(obj['status'])}, expected one of {', '.join(STATUSES)}"
    return None


def _figures(entry: dict[str, Any], where: str) -> str | None:
    try:
        figures.from_dict(entry.get("figures"))
    except (TypeError, ValueError, AttributeError) as exc:
        return f"{where}: 'figures' unreadable ({type(exc).__name__}: {exc})"
    return None


def _is_time(text: str) -> bool:
    try:
        dt.datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        return False
    return True


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:59] + "…"
