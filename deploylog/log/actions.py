"""The log's Python API: record a manual result, a sign-off, an incident, an
attachment; render; status; verify. The CLI commands and the demo call these;
each recording goes into the deployment's state file and re-renders the log.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from deploylog.errors import DeploylogError
from deploylog.files import sha256_file
from deploylog.log import chain, publish, records, signatures, signing
from deploylog.log import meta as meta_mod
from deploylog.log import state as state_mod
from deploylog.log.meta import Meta
from deploylog.log.model import LogView
from deploylog.log.present import fmt_time
from deploylog.spec import Spec


@dataclass(frozen=True)
class Target:
    """Where one deployment's log lives."""

    meta: Meta
    report_dir: Path
    signer: signing.Signer | None = None  # signs every event it records ([signing]); None: unsigned

    @property
    def state_path(self) -> Path:
        return state_mod.state_path(self.report_dir, self.meta.deployment_id)


def target(spec: Spec, report_dir: str | Path | None = None) -> Target:
    meta = meta_mod.from_spec(spec)
    return Target(meta, Path(report_dir or meta.report_dir), signing.signer_of(spec))


class LogNotRendered(DeploylogError):
    """The event is in the state, but the log files could not be written from it."""


def load_state(t: Target) -> dict[str, Any]:
    """The state, or an empty one (a log with every item not run yet)."""
    return state_mod.load(t.state_path) or state_mod.new_state(t.meta.deployment_id, t.meta.as_dict())


def append(t: Target, event: dict[str, Any], prepare: Any = None, set_aside_damaged: bool = False) -> tuple[LogView, dict[str, Path]]:
    """Record one event and re-render the three log files, as one critical section.

    Under one lock, so concurrent runs and recordings never leave a log rendered
    from an older state than the last one written; the target's signer signs the
    event there (a SigningError when it cannot and must: nothing recorded). A render
    failure after the state was written raises LogNotRendered (the event is
    recorded, the files are stale).
    """
    seal = t.signer.seal if t.signer else None
    with state_mod.locked(t.state_path):
        new = state_mod.append_event(t.state_path, t.meta.deployment_id, t.meta.as_dict(), event, prepare, set_aside_damaged, seal)
        try:
            return publish.publish(new, t.report_dir)
        except Exception as exc:  # any failure here leaves recorded results behind stale files
            cause = str(exc) if isinstance(exc, DeploylogError | OSError) else f"{type(exc).__name__}: {exc}"
            raise LogNotRendered(
                f"recorded in {t.state_path}, but the log files in {t.report_dir} could not be written: {cause}; "
                "fix it, then run `deploylog render`"
            ) from exc


def render(spec: Spec, report_dir: str | Path | None = None) -> dict[str, Path]:
    t = target(spec, report_dir)
    with state_mod.locked(t.state_path):
        return publish.publish(load_state(t), t.report_dir)[1]


def record_manual(
    spec: Spec,
    item: str,
    status: str,
    tester: str,
    notes: str = "",
    time: str | None = None,
    scheduled: str = "",
    report_dir: str | Path | None = None,
) -> LogView:
    """Record a phase 7 (or P.1) result by hand."""
    return append(target(spec, report_dir), records.manual_event(item, status, tester, notes, time, scheduled))[0]


def sign(
    spec: Spec,
    role: str,
    name: str,
    decision: str,
    time: str | None = None,
    notes: str = "",
    report_dir: str | Path | None = None,
) -> LogView:
    """Sign the log as it is now: the sign-off stores the digest of what it signed; with [signing], the signer's key signs it."""
    t = target(spec, report_dir)
    event = records.signoff_event(role, name, decision, time, notes)
    baseline = meta_mod.read_baseline(t.meta.baseline_path)

    def bind(current: dict[str, Any], new_event: dict[str, Any]) -> None:
        new_event["baseline_digest"] = baseline.digest
        new_event["log_digest"] = chain.head(current["deployment_id"], baseline.digest, current["events"])

    return append(t, event, bind)[0]


def add_incident(spec: Spec, report_dir: str | Path | None = None, **fields: Any) -> LogView:
    """Record an incident; `fields` as records.incident_event takes them (description, severity, ...)."""
    return append(target(spec, report_dir), records.incident_event(**fields))[0]


def attach(spec: Spec, file: str | Path, kind: str = "other", report_dir: str | Path | None = None) -> dict[str, Any]:
    """Copy a file into <report_dir>/attachments and record its sha256."""
    t = target(spec, report_dir)
    source = Path(file)
    if not source.is_file():
        raise DeploylogError(f"cannot attach {source}: not a file")
    records.attachment_kind(kind)
    sha = sha256_file(source)
    folder = t.report_dir / "attachments"
    folder.mkdir(parents=True, exist_ok=True)
    dest = folder / source.name
    n = 1
    while dest.exists() and sha256_file(dest) != sha:
        n += 1
        dest = folder / f"{source.stem}-{n}{source.suffix}"
    if not dest.exists():
        shutil.copy2(source, dest)
    event = {
        "type": "attachment",
        "kind": kind,
        "label": records.ATTACHMENT_KINDS[kind],
        "source": str(source),
        "path": str(dest.relative_to(t.report_dir)),
        "sha256": sha,
        "size": dest.stat().st_size,
        "recorded": state_mod.now_iso(),
    }
    append(t, event)
    return event


def status_text(spec: Spec, report_dir: str | Path | None = None) -> str:
    """A short summary for the console."""
    t = target(spec, report_dir)
    view = publish.view_of(load_state(t))
    o, s = view.overall, view.summary
    lines = [
        view.verdict.line(),
        f"deployment {t.meta.deployment_id}: {t.meta.module} {t.meta.expected_version} on {t.meta.database}",
        f"overall: {o.status}" + ("" if o.final else f" (provisional: {len(o.pending)} item(s) not decided)"),
        f"phases completed {s.phases_completed}/{s.phases_total}; tests passed {s.tests_passed}/{s.tests_total}; "
        f"failed {s.failed}; critical issues {s.critical_issues}",
    ]
    if o.not_applicable:
        lines.append(f"not applicable ({len(o.not_applicable)}): " + "; ".join(o.not_applicable))
    for phase, result in view.phases.items():
        counts = ", ".join(f"{k} {v}" for k, v in sorted(result.counts.items()))
        lines.append(f"  phase {phase:<2} {result.state:<10} {counts}" + (f" — {result.note}" if result.note else ""))
    by = {s.seq: s.by() for s in view.signatures}
    for role, event in view.signoffs.items():
        when = fmt_time(event["time"])
        lines.append(f"  signed: {role}: {event['name']} {event['decision']} at {when} — {by.get(event['seq'], '')}")
    lines.append(f"runs: {len(view.runs)}; incidents: {len(view.incidents)}; attachments: {len(view.attachments)}")
    lines.append(f"digest: {view.digest}")
    lines.append(f"signatures: {signatures.statement(view.signatures)}")
    lines.append(f"log: {t.report_dir / 'execution-log.html'}")
    return "\n".join(lines)


def verify(spec: Spec, report_dir: str | Path | None = None) -> list[publish.Check]:
    """The files against the state (publish.verify), then every event's signature against allowed_signers."""
    t = target(spec, report_dir)
    with state_mod.locked(t.state_path, shared=True):  # the files and the state as one writer left them
        current = state_mod.load(t.state_path)
        if current is None:
            raise DeploylogError(f"no log state at {t.state_path}: nothing to verify (run the suite first)")
        baseline = meta_mod.read_baseline(meta_mod.from_record(current["deployment"]).baseline_path)
        return publish.verify(current, t.report_dir) + signing.verify(current, spec.signing, baseline)
