"""The per-deployment state file: an append-only list of events.

Every pytest run, manual result, sign-off, incident and attachment is one
event, in the order it was recorded. The log is always rendered from this
file, so `pytest -m preflight`, `-m phase0`, `-m post` and the CLI all add to
ONE log, and earlier attempts are never lost. Writes are atomic (temporary
file + os.replace) under an exclusive lock, so a crash or a concurrent CLI
call never leaves a half-written state. The lock is re-entrant within a
process, so a caller can hold it across "append, then render" (actions.append).

A damaged state (not JSON, or not the shape the log reads: deploylog/log/shape.py)
is never overwritten: reading it is one clear error, and only a run that must
record its results anyway (append_event(set_aside_damaged=True)) moves it aside
to `<name>.corrupt-<UTC stamp>` and starts a new state that names where it went.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import json
import os
import re
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from deploylog.errors import DeploylogError
from deploylog.files import write_atomic
from deploylog.log import evidence, shape
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


def new_state(deployment_id: str, deployment: dict[str, Any], **more: Any) -> dict[str, Any]:
    """An empty state; like every event, what it holds is redacted as it enters the state."""
    fields = {"format": FORMAT, "deployment_id": deployment_id, "deployment": deployment, **more}
    return {**redact_obj(fields), "events": []}


class DamagedState(DeploylogError):
    """The state file exists but is not a readable deploylog state: nothing can be rendered from it."""

    def __init__(self, path: Path, problem: str) -> None:
        self.path = path
        self.problem = problem
        super().__init__(
            f"{path} is damaged ({problem}); restore it from a copy, or move it aside "
            "(a `pytest` run moves it aside itself and starts a new log)"
        )


def load(path: Path) -> dict[str, Any] | None:
    """The state at path, or None when there is none yet; a damaged file raises DamagedState (one line)."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    try:
        data = json.loads(text)
    except ValueError as exc:  # not JSON, or not UTF-8
        raise DamagedState(path, f"not valid JSON: {exc}") from None
    found = shape.problem(data, FORMAT, EVENT_TYPES)
    if found:
        raise DamagedState(path, f"not a {FORMAT} state: {found}")
    return dict(data)


def set_aside(path: Path, damage: DamagedState) -> dict[str, Any]:
    """Move a damaged state to `<name>.corrupt-<UTC stamp>` (never over another file); what the new state records."""
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    moved = path.with_name(f"{path.name}.corrupt-{stamp}")
    n = 1
    while moved.exists():  # under the state lock: no deploylog process races this
        n += 1
        moved = path.with_name(f"{path.name}.corrupt-{stamp}-{n}")
    os.rename(path, moved)
    return {"path": str(moved), "reason": damage.problem, "at": now_iso()}


def save(path: Path, state: dict[str, Any]) -> dict[str, Any]:
    """Write the state atomically (a reader sees the old file or the new one, never half of one).

    Returns the state exactly as a later load() will read it (key order included),
    so a log rendered now and one rendered from the file later are identical.
    """
    text = json.dumps(state, indent=1, sort_keys=True, ensure_ascii=False) + "\n"
    write_atomic(path, text)
    written: dict[str, Any] = json.loads(text)
    return written


_held = threading.local()


@contextlib.contextmanager
def locked(path: Path, shared: bool = False) -> Iterator[None]:
    """Lock around a read-modify-write of the state and the render (pytest and the CLI may overlap).

    Re-entrant in one thread: append_event inside actions.append's lock does not lock again.
    shared=True (verify) reads under a shared lock when the lock file can be opened,
    and without one in a report_dir it cannot write (a read-only archive copy).
    """
    key = str(path.resolve())
    held: set[str] = _held.__dict__.setdefault("paths", set())
    if key in held:
        yield
        return
    lock_path = path.with_name(path.name + ".lock")
    if shared:
        try:
            fh = open(lock_path)  # noqa: SIM115 (closed below)
        except OSError:
            yield
            return
    else:
        path.parent.mkdir(parents=True, exist_ok=True)
        fh = open(lock_path, "a")  # noqa: SIM115 (closed below)
    with fh:
        fcntl.flock(fh, fcntl.LOCK_SH if shared else fcntl.LOCK_EX)
        held.add(key)
        try:
            yield
        finally:
            held.discard(key)
            fcntl.flock(fh, fcntl.LOCK_UN)


def append_event(
    path: Path,
    deployment_id: str,
    deployment: dict[str, Any],
    event: dict[str, Any],
    prepare: Callable[[dict[str, Any], dict[str, Any]], None] | None = None,
    set_aside_damaged: bool = False,
    seal: Callable[[dict[str, Any], dict[str, Any]], None] | None = None,
) -> dict[str, Any]:
    """Add one event to the deployment's state and return the new state.

    Redaction happens here, once, with deploylog/redact.py: the state holds
    only redacted text (the event, the deployment record), and the log is
    rendered from the state alone.

    prepare(state, event) runs under the lock, before the event is added (a
    sign-off stores the digest of the log it signs there). seal(state, event)
    runs on the final event (redacted, capped, numbered) just before it is
    added: the operator's signature goes there (deploylog/log/signing.py); an
    exception from either leaves the state as it was. A damaged state raises
    DamagedState, or with set_aside_damaged is moved aside first.
    """
    if event.get("type") not in EVENT_TYPES:
        raise ValueError(f"unknown event type {event.get('type')!r}")
    with locked(path):
        state = _current(path, deployment_id, deployment, set_aside_damaged)
        if state["deployment_id"] != deployment_id:
            raise DeploylogError(
                f"{path} belongs to deployment {state['deployment_id']!r}, not {deployment_id!r}; use another report_dir"
            )
        state["deployment"] = redact_obj(deployment)
        if prepare is not None:
            prepare(state, event)
        event = redact_obj(event)
        event = evidence.cap_event(event, path.parent)  # after redaction: attachments hold the redacted text
        event["seq"] = len(state["events"]) + 1
        if seal is not None:
            seal(state, event)
        state["events"].append(event)
        return save(path, state)


def _current(path: Path, deployment_id: str, deployment: dict[str, Any], set_aside_damaged: bool) -> dict[str, Any]:
    try:
        return load(path) or new_state(deployment_id, deployment)
    except DamagedState as damage:
        if not set_aside_damaged:
            raise
        return new_state(deployment_id, deployment, set_aside=[set_aside(path, damage)])


def events(state: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [e for e in state["events"] if e.get("type") == kind]


def records_of(report_dir: str | Path, deployment_id: str, kind: str, item: str) -> list[dict[str, Any]]:
    """The recorded events of one kind for one item, oldest first (read-only; [] when no state yet)."""
    current = load(state_path(report_dir, deployment_id))
    return [e for e in events(current, kind) if e.get("item") == item] if current else []
