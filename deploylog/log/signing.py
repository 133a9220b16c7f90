"""Signing each event as it is recorded, and checking every signature (`deploylog verify`).

What is signed: deploylog/log/signatures.py. Who may sign: the OpenSSH
allowed_signers file that [signing] names; the principal recorded with a
signature is the one that file lists for the key. A signature that cannot be
made is one SigningError line: with [signing] required (the default) the event
is not recorded; otherwise it is recorded unsigned and says why.
"""

from __future__ import annotations

import datetime as dt
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from deploylog import sshsig
from deploylog.errors import DeploylogError
from deploylog.log import signatures
from deploylog.log.meta import BaselineRef, from_record, read_baseline
from deploylog.log.publish import Check
from deploylog.log.state import parse_time
from deploylog.spec import Signing, Spec
from deploylog.sshsig import SigningError

RECORD_FORMAT = "deploylog-sshsig/1"


class NotListed(SigningError):
    """The key signs, but allowed_signers does not accept it (for the principal): verify would reject it."""


@dataclass(frozen=True)
class Made:
    principal: str
    fingerprint: str
    signature: str


def _signed_at(event: dict[str, Any]) -> dt.datetime | None:
    """When the event was recorded (signed with it): the time allowed_signers' validity is checked at."""
    text = event.get("recorded")
    return parse_time(text) if isinstance(text, str) and text else None


@dataclass(frozen=True)
class Signer:
    """The key this invocation signs with, and who may sign ([signing] of deploy.toml)."""

    allowed_signers: Path
    key: str  # key file (private, or a .pub held by ssh-agent); "" = the agent's listed key
    principal: str
    required: bool

    def sign(self, message: bytes, at: dt.datetime | None = None) -> Made:
        if not self.allowed_signers.is_file():
            raise SigningError(f"[signing] allowed_signers {self.allowed_signers} does not exist: nothing can be signed or checked")
        if self.key:
            key = Path(self.key)
            if not key.exists():
                raise SigningError(f"signing key {key} does not exist ([signing] key, --signing-key)")
            return self._sign_as(key, message, at)
        refused = []
        with _agent_key_files() as keys:
            for key in keys:
                try:
                    return self._sign_as(key, message, at)
                except NotListed as exc:
                    refused.append(str(exc))
        raise SigningError("no key in the ssh-agent can sign: " + "; ".join(refused))

    def _sign_as(self, key: Path, message: bytes, at: dt.datetime | None) -> Made:
        signature = sshsig.sign(message, key)
        principal, why = self.principal, ""
        if not principal:
            found, why = sshsig.principals(signature, self.allowed_signers)
            principal = found[0] if found else ""
        if not principal:
            raise NotListed(f"{self.allowed_signers} accepts no principal for key {_fingerprint(message, signature)} ({key}): {why}")
        if any(c in principal for c in "*?!"):
            raise NotListed(f"{self.allowed_signers} lists key {key} under the pattern {principal!r}: set [signing] principal")
        checked = sshsig.verify(message, signature, self.allowed_signers, principal, at)
        if not checked.ok:
            fingerprint = _fingerprint(message, signature)
            why = checked.problem or "no reason given"
            raise NotListed(f"{self.allowed_signers} does not accept key {fingerprint} ({key}) for {principal}: {why}")
        return Made(principal, checked.fingerprint, signature)

    def seal(self, state: dict[str, Any], event: dict[str, Any]) -> None:
        """Sign the event (final: redacted, capped, numbered) over its place in the state; under the state lock."""
        baseline = read_baseline(from_record(state["deployment"]).baseline_path).digest
        previous = signatures.previous_heads(state["deployment_id"], state["events"])[-1]
        try:
            made = self.sign(signatures.message(previous, event, baseline), _signed_at(event))
        except SigningError as exc:
            if self.required:
                raise SigningError(f"the event cannot be signed, and [signing] requires it: {exc}") from None
            event[signatures.UNSIGNED] = str(exc)
            return
        event[signatures.SIGNATURE] = {
            "format": RECORD_FORMAT,
            "namespace": sshsig.NAMESPACE,
            "principal": made.principal,
            "fingerprint": made.fingerprint,
            "baseline_digest": baseline,
            "previous": previous,
            "sshsig": made.signature,
        }


def _fingerprint(message: bytes, signature: str) -> str:
    return sshsig.check_novalidate(message, signature).fingerprint or "?"


@contextmanager
def _agent_key_files() -> Iterator[list[Path]]:
    """The agent's public keys as .pub files: `ssh-keygen -Y sign -f KEY.pub` signs with the agent's private half."""
    lines = sshsig.agent_keys()
    with tempfile.TemporaryDirectory(prefix="deploylog-agent-") as tmp:
        files = []
        for n, line in enumerate(lines):
            path = Path(tmp) / f"agent-key-{n}.pub"
            path.write_text(line + "\n", encoding="ascii")
            files.append(path)
        yield files


def signer_of(spec: Spec) -> Signer | None:
    """The signer [signing] describes; None when signing is not configured."""
    cfg = spec.signing
    if not cfg.enabled:
        return None
    return Signer(Path(cfg.allowed_signers), cfg.key, cfg.principal, cfg.required)


def identity(spec: Spec) -> str:
    """Who this invocation signs as, proven by signing a probe: `principal (SHA256:...)`; "" when signing is off."""
    signer = signer_of(spec)
    if signer is None:
        return ""
    made = signer.sign(b"deploylog signing probe\n")
    return f"{made.principal} ({made.fingerprint})"


# ------------------------------------------------------------------ verify


def verify(state: dict[str, Any], config: Signing, baseline: BaselineRef) -> list[Check]:
    """One check per event (signed by whom, unsigned, or BAD and why) and one for the baseline."""
    events = state["events"]
    if not config.enabled:
        carrying = sum(1 for e in events if signatures.SIGNATURE in e)
        note = (
            f"not configured ([signing] allowed_signers is empty): the log is {signatures.NOT_TAMPER_PROOF}; "
            "anyone who can edit the state can recompute the digest"
        )
        if carrying:
            note += f"; {carrying} event(s) carry a signature not checked here"
        return [Check("signatures", True, note, "NOTE")]
    allowed = Path(config.allowed_signers)
    if not allowed.is_file():
        raise DeploylogError(f"cannot check the signatures: [signing] allowed_signers {allowed} does not exist")
    heads = signatures.previous_heads(state["deployment_id"], events)
    described = signatures.of_state(state)
    checks = [_check_event(event, heads[n], described[n], allowed, config.required) for n, event in enumerate(events)]
    return [*checks, *_baseline_check(events, baseline)]


def _check_event(event: dict[str, Any], previous: str, seen: signatures.EventSignature, allowed: Path, required: bool) -> Check:
    subject = f"event {seen.seq}, {seen.what}"
    record = event.get(signatures.SIGNATURE)
    if record is None:
        detail = seen.by()
        if required:
            return Check(subject, False, f"{detail} — [signing] requires every event to be signed", "BAD", seen.seq)
        return Check(subject, True, f"{detail} — {signatures.NOT_TAMPER_PROOF}", "UNSIGNED", seen.seq)
    fields = ("principal", "fingerprint", "baseline_digest", "sshsig")
    if not all(isinstance(record.get(k), str) for k in fields):
        return Check(subject, False, "BAD: its signature record is unreadable (edited)", "BAD", seen.seq)
    claimed = f"{record['principal']} ({record['fingerprint']})"
    sent = signatures.message(previous, event, record["baseline_digest"])
    checked = sshsig.verify(sent, record["sshsig"], allowed, record["principal"], _signed_at(event))
    if checked.ok and checked.fingerprint == record["fingerprint"]:
        return Check(subject, True, f"signed by {claimed}", "OK", seen.seq)
    if checked.ok:
        why = f"made by key {checked.fingerprint}, not the {record['fingerprint']} the log shows"
    else:
        why = _why_bad(event, record, sent, previous, allowed, checked.problem)
    return Check(subject, False, f"BAD signature (claims {claimed}): {why}", "BAD", seen.seq)


def _why_bad(event: dict[str, Any], record: dict[str, Any], sent: bytes, previous: str, allowed: Path, problem: str) -> str:
    intact = sshsig.check_novalidate(sent, record["sshsig"])
    if intact.ok:  # a good signature of exactly this, by a key allowed_signers does not accept for the principal
        return f"made by key {intact.fingerprint}, which {allowed} does not accept for {record['principal']}" + (
            f" ({problem})" if problem else ""
        )
    stored = str(record.get("previous", ""))
    as_signed = signatures.message(stored, event, record["baseline_digest"])
    if stored != previous and sshsig.check_novalidate(as_signed, record["sshsig"]).ok:
        return "the events before it were changed, reordered or deleted after it was signed"
    return "it was changed after it was signed (the signature does not match its content)"


def _baseline_check(events: list[dict[str, Any]], baseline: BaselineRef) -> list[Check]:
    signed = [e for e in events if isinstance(e.get(signatures.SIGNATURE), dict)]
    if not signed:
        return []
    last = signed[-1]
    seen = last[signatures.SIGNATURE].get("baseline_digest")
    if seen == baseline.digest:
        return [Check("baseline", True, f"the one the last signed event (event {last['seq']}) was signed over")]
    said = f"{seen[:16]}…" if isinstance(seen, str) and seen else "no baseline"
    now = f"{baseline.digest[:16]}…" if baseline.digest else "no baseline"
    detail = f"now {now}, but the last signed event (event {last['seq']}) was signed over {said}: replaced after it"
    return [Check("baseline", False, detail, "BAD")]


def conclusion(checks: list[Check]) -> list[str]:
    """verify's last lines: how far the log can be trusted, or which events are BAD."""
    bad = [str(c.seq) for c in checks if c.label == "BAD" and c.seq is not None]
    if bad:
        return [
            f"deploylog: verify FAILED — BAD event(s) {', '.join(bad)}: changed after they were signed, "
            "or not signed by a key allowed_signers accepts"
        ]
    if any(not c.ok for c in checks):
        return ["deploylog: verify FAILED — the log was edited after the fact (or is stale: run `deploylog render`)"]
    lines = ["deploylog: verify OK — the log is exactly what its recorded results render"]
    unsigned = [str(c.seq) for c in checks if c.label == "UNSIGNED"]
    if any(c.subject == "signatures" and c.label == "NOTE" for c in checks):
        lines.append(f"deploylog: {signatures.NOT_TAMPER_PROOF} — no [signing] allowed_signers: nothing is signed")
    elif unsigned:
        lines.append(f"deploylog: not tamper-proof — unsigned event(s) {', '.join(unsigned)}")
    else:
        lines.append("deploylog: every event is signed by a key allowed_signers accepts")
    return lines
