"""What the log says about the deployment itself: taken from the Spec, recorded in the state.

Every write stores the Meta in the state as its `deployment` record (redacted
there, with everything else the state holds); the log's header is rendered
from that record, so the log shows only what the state holds.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

from deploylog.spec import Spec

NO_DIGEST_NOTE = "no baseline found: the log digest is chained over the empty string"


@dataclass(frozen=True)
class Meta:
    deployment_id: str
    module: str
    title: str
    expected_version: str
    previous_version: str
    database: str
    dsn: str  # as configured: the state redacts it when it records it
    report_dir: str
    baseline_path: str = ""
    modules: str = ""  # several modules: each with its versions ("" for one: the module line says it)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class BaselineRef:
    """The baseline the log digest is chained over."""

    path: str
    digest: str  # "" when absent or unreadable
    note: str  # how it was found, said in the log

    @property
    def present(self) -> bool:
        return bool(self.digest)


def from_spec(spec: Spec) -> Meta:
    dep = spec.deployment
    return Meta(
        deployment_id=spec.deployment_id,
        module=dep.module,
        title=dep.title,
        expected_version=dep.expected_version,
        previous_version=dep.previous_version,
        database=spec.database.name,
        dsn=spec.database.dsn or "",
        report_dir=str(spec.paths.report_dir),
        baseline_path=str(spec.baseline_path),
        modules=modules_line(spec),
    )


def modules_line(spec: Spec) -> str:
    """The header's list of a deployment's modules, each `name previous -> expected` ("" for one module)."""
    if len(spec.all_modules) < 2:
        return ""
    parts = []
    for m in spec.all_modules:
        before = "first install" if m.first_install else (m.previous_version or "?")
        parts.append(f"{m.name} {before} -> {m.expected_version}")
    return "; ".join(parts)


def from_record(record: dict[str, Any]) -> Meta:
    """The Meta a state recorded (its `deployment`); a key it lacks reads as ""."""
    return Meta(**{f.name: str(record.get(f.name) or "") for f in fields(Meta)})


def read_baseline(path: str) -> BaselineRef:
    """The baseline's own digest (top-level "digest"), or an empty digest and why."""
    if not path:
        return BaselineRef("", "", NO_DIGEST_NOTE)
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return BaselineRef(path, "", f"{NO_DIGEST_NOTE} ({path} does not exist)")
    except (OSError, ValueError) as exc:
        return BaselineRef(path, "", f"baseline {path} unreadable ({exc}); chained over the empty string")
    digest = data.get("digest") if isinstance(data, dict) else None
    if not isinstance(digest, str) or not digest:
        return BaselineRef(path, "", f"baseline {path} has no digest field; chained over the empty string")
    return BaselineRef(path, digest, f"chained over the baseline digest of {path}")
