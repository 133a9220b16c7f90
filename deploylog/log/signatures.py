"""What an event's signature covers, and what the log says of its signatures (pure: no ssh-keygen here).

Each event is signed as it is recorded, under the state lock, over its place in the log:

    previous = the chain head of the events before it (chain.py, over the events alone)
    head     = sha256(previous \\n canonical_json(the event without its "signature"))
    message  = "deploylog-signed-event/1" \\n head \\n baseline digest at that moment \\n

signed with `ssh-keygen -Y sign -n deploylog`. Editing, reordering or deleting an
event breaks its signature and that of every event after it (their `previous`
changes); a sign-off's event holds the log digest it approved, so its signature
covers that digest. The baseline is kept out of `previous` (the first events are
recorded before phase 0 writes it) and signed as it was when each event was
recorded; verify checks that the last signed event saw the baseline the log has now.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from deploylog.log import chain

FORMAT = "deploylog-signed-event/1"
SIGNATURE = "signature"  # the event's key holding its signature record
UNSIGNED = "unsigned"  # the event's key saying why it was recorded without one ([signing] required = false)
NOT_TAMPER_PROOF = "integrity-checked only, not tamper-proof"


def unsigned(event: dict[str, Any]) -> dict[str, Any]:
    """The event as its signature covers it: everything but the signature record itself."""
    return {k: v for k, v in event.items() if k != SIGNATURE}


def previous_heads(deployment_id: str, events: list[dict[str, Any]]) -> list[str]:
    """The head of the events before each event (and, last, after all of them): what each signature chains to."""
    return chain.heads(deployment_id, "", events)


def message(previous: str, event: dict[str, Any], baseline_digest: str) -> bytes:
    """The bytes an event's signature signs."""
    return f"{FORMAT}\n{chain.step(previous, unsigned(event))}\n{baseline_digest}\n".encode()


def describe(event: dict[str, Any], run_number: int = 0) -> str:
    """An event in a few words, for verify's lines and the log's list of signatures."""
    kind = event.get("type", "")
    if kind == "run":
        return f"run {run_number} ({event.get('command', '')})"
    if kind == "manual":
        return f"manual {event.get('item', '')} {event.get('status', '')} by {event.get('tester', '')}"
    if kind == "signoff":
        return f"sign-off {event.get('role', '')} by {event.get('name', '')} ({event.get('decision', '')})"
    if kind == "incident":
        return f"incident ({event.get('severity', '')})"
    return f"{kind} {event.get('path', '')}".strip()


@dataclass(frozen=True)
class EventSignature:
    """Who signed one event, as the state records it (verify checks that it is true)."""

    seq: int
    what: str
    principal: str = ""  # "" when unsigned
    fingerprint: str = ""
    unsigned: str = ""  # why it was recorded without a signature, when signing was configured

    @property
    def signed(self) -> bool:
        return bool(self.principal)

    def by(self) -> str:
        if self.signed:
            return f"{self.principal} ({self.fingerprint})"
        return "unsigned" + (f": {self.unsigned}" if self.unsigned else "")

    def line(self) -> str:
        return f"event {self.seq}, {self.what}: {self.by()}"


def of_state(state: dict[str, Any]) -> list[EventSignature]:
    out = []
    runs = 0
    for event in state["events"]:
        runs += event.get("type") == "run"
        record = event.get(SIGNATURE) or {}
        out.append(
            EventSignature(
                seq=event["seq"],
                what=describe(event, runs),
                principal=str(record.get("principal", "")),
                fingerprint=str(record.get("fingerprint", "")),
                unsigned=str(event.get(UNSIGNED, "")),
            )
        )
    return out


def statement(signatures: list[EventSignature]) -> str:
    """The log's one sentence on how far it can be trusted."""
    unsigned_seqs = [str(s.seq) for s in signatures if not s.signed]
    if not signatures:
        return "no event recorded yet"
    if not unsigned_seqs:
        return (
            f"every event ({len(signatures)}) is signed with an OpenSSH key (namespace deploylog); "
            "deploylog verify checks each signature against allowed_signers"
        )
    if len(unsigned_seqs) == len(signatures):
        return f"unsigned: {NOT_TAMPER_PROOF} (anyone who can edit the state can recompute the digest; see [signing] in the README)"
    signed = len(signatures) - len(unsigned_seqs)
    return f"{signed} of {len(signatures)} events signed; unsigned: event {', '.join(unsigned_seqs)}: not tamper-proof"


def coverage(seq: int, total: int) -> str:
    """What a sign-off (event seq of total) approved: the events before it, not those recorded after it."""
    covered = "no earlier event" if seq <= 1 else f"events 1-{seq - 1}"
    if seq >= total:
        return f"covers {covered}"
    later = f"event {total}" if seq + 1 == total else f"events {seq + 1}-{total}"
    return f"covers {covered} only ({later} recorded after it)"
