"""The per-deployment state file: an append-only list of events.

Every pytest run, manual result, sign-off, incident and attachment is one
event, in the order it was recorded. The log is always rendered from this
file, so `pytest -m preflight`, `-m phase0`, `-m post` and the CLI all add to
ONE log, and earlier attempts are never lost. Writes are atomic (temporary
file + os.replace) under an exclusive lock, so a crash or a concurrent CLI
call never leaves a half-written state.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from deploylog.errors import DeploylogError
from deploylog.files import write_atomic
from deploylog.log import evidence
from deploylog.redact import redact_obj

FORMAT = "deploylog-state/1"
EVENT_TYPES = ("run", "manual", "signoff", "incident", "attachment")


def now_iso() -> str:
    """Current UTC time, second precision, ISO 8601 (the only time format in the state)."""
    return dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()


def iso(ts: float) -> str:
    """A POSIX timestamp as the state's ISO format (millisecond precision for test timings)."""
    return dt.datetime.fromtimestamp(ts, dt.UTC).isoformat(timespec="milliseconds")


def parse_time(text: str) -> dt.datetime:
    """An ISO time typed by an operator or read from the state; naive times are taken as UTC."""
    try:
        value = dt.datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise DeploylogError(f"not an ISO time: {text!r} (e.g. 2025-12-22T10:15:00+00:00)") from None
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def state_path(report_dir: str | Path, deployment_id: str) -> Path:
    safe = re.sub(r"[^A-Za-z0-9._-]", "_", deployment_id) or "deployment"
    return Path(report_dir) / f"{safe}.state.json"


def new_state(deployment_id: str, deployment: dict[str, Any]) -> dict[str, Any]:
    return {"format": FORMAT, "deployment_id": deployment_id, "deployment": deployment, "events": []}


def load(path: Path) -> dict[str, Any] | None:
    """The state at path, or None when there is none yet; a corrupt file is a clear error."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise DeploylogError(f"{path}: state file is not valid JSON ({exc}); restore it from a copy") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT or not isinstance(data.get("events"), list):
        raise DeploylogError(f"{path}: not a deploylog state file (format {FORMAT} expected)")
    return data


def save(path: Path, state: dict[str, Any]) -> dict[str, Any]:
    """Write the state atomically (a reader sees the old file or the new one, never half of one).

    Returns the state exactly as a later load() will read it (key order included),
    so a log rendered now and one rendered from the file later are identical.
    """
    text = json.dumps(state, indent=1, sort_keys=True, ensure_ascii=False) + "\n"
    write_atomic(path, text)
    return json.loads(text)


@contextlib.contextmanager
def locked(path: Path) -> Iterator[None]:
    """Exclusive lock around a read-modify-write of the state (pytest and the CLI may overlap)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_name(path.name + ".lock"), "a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def append_event(
    path: Path,
    deployment_id: str,
    deployment: dict[str, Any],
    event: dict[str, Any],
    prepare: Callable[[dict[str, Any], dict[str, Any]], None] | None = None,
) -> dict[str, Any]:
    """Add one event (redacted) to the deployment's state and return the new state.

    prepare(state, event) runs under the lock, before the event is added (a
    sign-off stores the digest of the log it signs there).
    """
    if event.get("type") not in EVENT_TYPES:
        raise ValueError(f"unknown event type {event.get('type')!r}")
    with locked(path):
        state = load(path) or new_state(deployment_id, deployment)
        if state["deployment_id"] != deployment_id:
            raise DeploylogError(
                f"{path} belongs to deployment {state['deployment_id']!r}, not {deployment_id!r}; use another report_dir"
            )
        state["deployment"] = deployment
        if prepare is not None:
            prepare(state, event)
        event = redact_obj(event)
        event = evidence.cap_event(event, path.parent)  # after redaction: attachments hold the redacted text
        event["seq"] = len(state["events"]) + 1
        state["events"].append(event)
        return save(path, state)


def events(state: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [e for e in state["events"] if e.get("type") == kind]


def records_of(report_dir: str | Path, deployment_id: str, kind: str, item: str) -> list[dict[str, Any]]:
    """The recorded events of one kind for one item, oldest first (read-only; [] when no state yet)."""
    current = load(state_path(report_dir, deployment_id))
    return [e for e in events(current, kind) if e.get("item") == item] if current else []
