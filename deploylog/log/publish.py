"""Render the three log files from the state, and check files against it (verify)."""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from deploylog.files import sha256_file, write_atomic
from deploylog.log import chain, model, render_html, render_json, render_md, signatures
from deploylog.log.meta import BaselineRef, from_record, read_baseline

RENDERERS = {
    "execution-log.md": render_md.render,
    "execution-log.html": render_html.render,
    "execution-log.json": render_json.render,
}


def view_of(state: dict[str, Any], baseline: BaselineRef | None = None) -> model.LogView:
    """The log of a state; its header is the deployment the state recorded (redacted when it was stored)."""
    meta = from_record(state["deployment"])
    return model.build(state, meta, baseline or read_baseline(meta.baseline_path))


def render_texts(view: model.LogView) -> dict[str, str]:
    return {name: renderer(view) for name, renderer in RENDERERS.items()}


def publish(state: dict[str, Any], report_dir: str | Path) -> tuple[model.LogView, dict[str, Path]]:
    """Write execution-log.{md,html,json} into report_dir (each atomically)."""
    view = view_of(state)
    written = {}
    for name, text in render_texts(view).items():
        path = Path(report_dir) / name
        write_atomic(path, text)
        written[name] = path
    return view, written


@dataclass
class Check:
    subject: str
    ok: bool
    detail: str
    label: str = ""  # default: OK or EDITED; signatures say OK, BAD, UNSIGNED or NOTE
    seq: int | None = None  # the event it checks, when it checks one

    def line(self) -> str:
        return f"{self.label or ('OK' if self.ok else 'EDITED'):<6} {self.subject}: {self.detail}"


def _first_difference(expected: str, actual: str) -> str:
    for n, (a, b) in enumerate(zip(expected.splitlines(), actual.splitlines(), strict=False), 1):
        if a != b:
            return f"line {n}: expected {a.strip()[:80]!r}, found {b.strip()[:80]!r}"
    diff = list(difflib.unified_diff(expected.splitlines(), actual.splitlines(), lineterm="", n=0))
    return f"lengths differ ({len(diff)} diff lines)"


def _full_texts(events: list[dict[str, Any]], report_dir: Path) -> list[Check]:
    """Each evidence kept whole beside the log (a capped result's full_text) must still be what was recorded."""
    checks = []
    for event in events:
        for entry in event.get("results", []):
            for kept in entry.get("full_text", []):
                path = report_dir / kept["path"]
                subject = f"full text of {entry['item']} {kept['field']} ({kept['path']})"
                if not path.is_file():
                    checks.append(Check(subject, False, "missing"))
                elif sha256_file(path) != kept["sha256"]:
                    checks.append(Check(subject, False, "its sha256 is not the one recorded (edited)"))
                else:
                    checks.append(Check(subject, True, "matches its recorded sha256"))
    return checks


def verify(state: dict[str, Any], report_dir: str | Path) -> list[Check]:
    """Recompute the chain and re-render: every file must be exactly what the state renders."""
    baseline = read_baseline(from_record(state["deployment"]).baseline_path)
    view = view_of(state, baseline)
    checks = [Check("log digest", True, f"{view.digest} over {len(state['events'])} events; {baseline.note}")]
    all_events = state["events"]
    heads = chain.heads(state["deployment_id"], baseline.digest, all_events)
    for index, event in enumerate(all_events):
        if event.get("type") != "signoff":
            continue
        who = f"sign-off of {event['role']} by {event['name']} ({event['decision']}, {event['time']})"
        if event.get("log_digest") == heads[index]:
            covers = signatures.coverage(index + 1, len(all_events))
            checks.append(Check(who, True, f"the log it signed is unchanged ({covers})"))
        elif event.get("baseline_digest", "") != baseline.digest:
            checks.append(Check(who, False, "the baseline changed after this sign-off"))
        else:
            checks.append(Check(who, False, "results recorded before this sign-off were changed after it"))
    checks += _full_texts(all_events, Path(report_dir))
    for name, expected in render_texts(view).items():
        path = Path(report_dir) / name
        if not path.exists():
            checks.append(Check(name, False, "missing (run `deploylog render`)"))
            continue
        actual = path.read_text(encoding="utf-8")
        if actual == expected:
            checks.append(Check(name, True, "matches the state and the digest"))
        elif view.digest not in actual:
            checks.append(Check(name, False, "its digest is not the recomputed one (edited, or stale)"))
        else:
            checks.append(Check(name, False, f"content edited after rendering ({_first_difference(expected, actual)})"))
    return checks
