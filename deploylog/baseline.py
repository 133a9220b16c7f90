"""The baseline: phase 0's figures and fingerprints, kept as evidence for phase 5.

Written atomically (temp file + rename), never silently overwritten (a
replaced baseline is archived beside it), bound to the database it came from
(cluster system identifier, database name and oid) and tamper-evident (a
sha256 over its canonical content, and over each row side file).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from deploylog import fingerprint, odoo
from deploylog.db import Identity, Snapshot
from deploylog.errors import DeploylogError
from deploylog.files import sha256_file, write_atomic
from deploylog.spec import Spec

FORMAT = 1
CREATE_COMMAND = "pytest -m phase0"


def path_for(spec: Spec) -> Path:
    return spec.baseline_path


def rows_dir_for(spec: Any) -> Path:
    return Path(spec.paths.baseline_dir) / f"{spec.deployment_id}.rows"


def canonical_digest(data: dict[str, Any]) -> str:
    body = {k: v for k, v in data.items() if k != "digest"}
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), default=str)
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


def code_state(repo: str) -> dict[str, Any]:
    """Branch and HEAD of the code checkout before the deployment (phase 2 diffs from it)."""
    if not repo:
        return {"repo": "", "head": None, "branch": None, "reason": "paths.repo is not configured"}
    if not Path(repo).is_dir():
        return {"repo": repo, "head": None, "branch": None, "reason": f"{repo} is not a directory on this machine"}

    def git(*args: str) -> str:
        # safe.directory: the checkout usually belongs to the odoo user, not to whoever runs the log;
        # reading HEAD is harmless, and git would otherwise refuse ("dubious ownership").
        done = subprocess.run(["git", "-c", f"safe.directory={repo}", "-C", repo, *args], capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise DeploylogError(done.stderr.strip() or f"git {' '.join(args)} failed")
        return done.stdout.strip()

    try:
        return {"repo": repo, "head": git("rev-parse", "HEAD"), "branch": git("rev-parse", "--abbrev-ref", "HEAD")}
    except DeploylogError as exc:
        return {"repo": repo, "head": None, "branch": None, "reason": str(exc)}


def figures(snap: Snapshot, spec: Any) -> dict[str, Any]:
    """The counts phase 5 compares, all from the session's one snapshot."""
    payments = odoo.payment_distribution(snap, spec)
    invoices = odoo.invoice_distribution(snap, spec)
    recon = odoo.reconciliation_lines(snap, spec)
    reconciled = odoo.reconciled_payments(snap, spec)
    return {
        "payments": payments["total"],
        "posted_payments": payments["posted"],
        "posted_invoices": invoices["posted"],
        "invoice_move_types": invoices["move_types"],
        "reconciliation_lines": recon["lines"] if recon["present"] else None,
        "reconciled_payments_odoo": reconciled["odoo_is_reconciled"],
        "reconciled_payments_module": reconciled["module_reconciliation_lines"],
    }


def capture(snap: Snapshot, spec: Any, started_at: dt.datetime, staging: Path) -> dict[str, Any]:
    """Everything phase 5 needs, read in the one snapshot; row side files go to `staging`."""
    identity = snap.identity()
    module = odoo.module_state(snap, spec.deployment.module)
    prints: dict[str, Any] = {}
    for name in fingerprint.SETS:
        if fingerprint.set_query(name, snap, spec) is None:
            prints[name] = None
            continue
        # one pass per set: the COPY that writes the rows also yields the bucket digests
        rows_sha256 = fingerprint.export_rows(snap, spec, name, staging / f"{name}.tsv")
        fp = fingerprint.compute(snap, spec, name)
        assert fp is not None
        entry = fp.as_dict()
        entry["rows_file"] = f"{name}.tsv"
        entry["rows_sha256"] = rows_sha256
        prints[name] = entry
    data: dict[str, Any] = {
        "format": FORMAT,
        "deployment_id": spec.deployment_id,
        "module": spec.deployment.module,
        "expected_version": spec.deployment.expected_version,
        "phase0_started_at": started_at.isoformat(),
        "captured_at": dt.datetime.now(dt.UTC).isoformat(),
        "snapshot_time": snap.snapshot_time().isoformat(),
        "database": identity.as_dict(),
        "module_state": module.values,
        "figures": figures(snap, spec),
        "fingerprints": prints,
        "code": code_state(spec.paths.repo),
    }
    data["digest"] = canonical_digest(data)
    return data


def archive_existing(spec: Any) -> Path | None:
    """Move an existing baseline (and its rows) aside; returns the archived JSON path."""
    target = path_for(spec)
    if not target.exists():
        return None
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    archived = target.with_name(f"{spec.deployment_id}.superseded-{stamp}.json")
    os.replace(target, archived)
    rows = rows_dir_for(spec)
    if rows.exists():
        os.replace(rows, rows.with_name(f"{spec.deployment_id}.superseded-{stamp}.rows"))
    return archived


def store(spec: Any, snap: Snapshot, started_at: dt.datetime) -> dict[str, Any]:
    """Capture and write a new baseline: rows into place first, the JSON last (its rename commits it)."""
    target = path_for(spec)
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{spec.deployment_id}.rows."))
    try:
        data = capture(snap, spec, started_at, staging)
        rows = rows_dir_for(spec)
        if rows.exists():
            shutil.rmtree(rows)
        os.replace(staging, rows)
        write_atomic(target, json.dumps(data, indent=2, sort_keys=True, default=str) + "\n")
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return data


@dataclass
class Baseline:
    data: dict[str, Any]
    path: Path

    @property
    def digest(self) -> str:
        return self.data["digest"]

    @property
    def started_at(self) -> dt.datetime:
        return dt.datetime.fromisoformat(self.data["phase0_started_at"])

    @property
    def captured_at(self) -> dt.datetime:
        return dt.datetime.fromisoformat(self.data["captured_at"])

    @property
    def code(self) -> dict[str, Any]:
        return self.data.get("code", {})

    @property
    def figures(self) -> dict[str, Any]:
        return self.data["figures"]

    @property
    def identity(self) -> Identity:
        return Identity(**self.data["database"])

    def rows_file(self, name: str) -> Path | None:
        entry = self.data["fingerprints"].get(name)
        return self.path.with_suffix(".rows") / entry["rows_file"] if entry else None


def load(spec: Any) -> Baseline:
    """The stored baseline of this deployment, digest-verified; one-line error otherwise."""
    path = path_for(spec)
    if not path.exists():
        raise DeploylogError(
            f"no baseline for deployment {spec.deployment_id} at {path}: run `{CREATE_COMMAND}` before deploying to create it"
        )
    try:
        data = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise DeploylogError(f"baseline {path} is corrupt (not valid JSON: {exc}); it cannot be used as evidence") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT or "digest" not in data:
        raise DeploylogError(f"baseline {path} is not a deploylog baseline (format {FORMAT} with a digest)")
    if canonical_digest(data) != data["digest"]:
        raise DeploylogError(f"baseline {path} was modified after capture (digest mismatch): it cannot be trusted")
    if data.get("deployment_id") != spec.deployment_id:
        raise DeploylogError(f"baseline {path} belongs to deployment {data.get('deployment_id')!r}, not {spec.deployment_id!r}")
    baseline = Baseline(data, path)
    for name, entry in data["fingerprints"].items():
        if entry is None:
            continue
        rows = baseline.rows_file(name)
        if rows is None or not rows.exists():
            raise DeploylogError(f"baseline row file {rows} is missing: the baseline is incomplete")
        if "sha256:" + sha256_file(rows) != entry["rows_sha256"]:
            raise DeploylogError(f"baseline row file {rows} was modified after capture (digest mismatch)")
    return baseline


def check_identity(baseline: Baseline, current: Identity) -> None:
    """Refuse a baseline taken on another database (restored copy, other server, other name)."""
    before = baseline.identity
    if (before.system_identifier, before.database, before.oid) != (
        current.system_identifier,
        current.database,
        current.oid,
    ):
        raise DeploylogError(
            f"baseline {baseline.path} was taken on {before.describe()}, "
            f"but this run is connected to {current.describe()}: refusing to compare"
        )
