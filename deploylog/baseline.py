"""The baseline: phase 0's protected sets (count, sub-counts, fingerprint, row file), kept as evidence for phase 5.

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
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from deploylog import checks, fingerprint, odoo, protect
from deploylog.db import Identity, Snapshot
from deploylog.errors import DeploylogError
from deploylog.files import sha256_file, write_atomic
from deploylog.hostchecks import backup, hostio
from deploylog.hostchecks import code as code_checks
from deploylog.log import query
from deploylog.spec import Spec

if TYPE_CHECKING:  # imported where used: start-up (pytest --co, the CLI) needs none of it
    from testinfra.host import Host

# 2: the code HEAD before the deployment is recorded per host (code.hosts.<host name>.head)
# 3: the protected sets are deploy.toml's [[protect]] entries, each with its count and sub-counts from the scan of its
#    fingerprint; the digest (fingerprint.method, server major version) is recorded under `fingerprint`
FORMAT = 3
CREATE_COMMAND = "pytest -m phase0"
RECAPTURE_COMMAND = "pytest -m phase0 --recapture-baseline"


def path_for(spec: Spec) -> Path:
    return spec.baseline_path


def rows_dir_for(spec: Spec) -> Path:
    return Path(spec.paths.baseline_dir) / f"{spec.deployment_id}.rows"


def canonical_digest(data: dict[str, Any]) -> str:
    body = {k: v for k, v in data.items() if k != "digest"}
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), default=str)
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


def code_state(spec: Spec, hosts: Sequence[Host]) -> tuple[dict[str, Any], list[str]]:
    """HEAD and branch of the checkout on every host before the deployment (phase 2 diffs from it).

    Returns (code, problems): a problem names [paths] repo, because a baseline
    without the HEAD before leaves phase 2 nothing to compare with.
    """
    repo = spec.paths.repo
    code: dict[str, Any] = {"repo": repo, "hosts": {}}
    if not repo:
        return code, ["[paths] repo is not set in deploy.toml: the HEAD before the deployment cannot be recorded"]
    problems = []
    for host in hosts:
        name = hostio.host_name(host)
        found = hostio.stat(host, repo)
        if not found.is_dir:
            problems.append(f"[paths] repo = {repo!r} is not a directory on {name}: the HEAD before the deployment cannot be recorded")
            continue
        head = code_checks.git(host, repo, "rev-parse", "HEAD")
        branch = code_checks.git(host, repo, "rev-parse", "--abbrev-ref", "HEAD")
        if head.rc != 0 or branch.rc != 0:
            why = (head.stderr or branch.stderr).strip().splitlines()[-1:] or ["git rev-parse HEAD failed"]
            problems.append(f"[paths] repo = {repo!r} on {name} is not a git checkout with a commit ({why[0]})")
            continue
        code["hosts"][name] = {"head": head.stdout.strip(), "branch": branch.stdout.strip()}
    return code, problems


def figures_of(prints: dict[str, Any]) -> dict[str, Any]:
    """The counts phase 5 compares, by name: each set's total (`<set>`) and sub-counts (`<set>.<count>`); None when absent."""
    found: dict[str, Any] = {}
    for name, entry in prints.items():
        found[name] = entry.get("count")
        for count, value in (entry.get("counts") or {}).items():
            found[f"{name}.{count}"] = value
    return found


def protected(snap: Snapshot, spec: Spec, staging: Path, method: fingerprint.Method) -> dict[str, Any]:
    """Every [[protect]] set: one scan each, the COPY-like stream of its rows into `staging` yielding its buckets."""
    prints: dict[str, Any] = {}
    for entry in spec.protect:
        found = fingerprint.export_rows(snap, spec, entry, method, staging / f"{entry.name}.tsv")
        if isinstance(found, fingerprint.Absent):
            prints[entry.name] = {"item": entry.item, "absent": found.reason, "count": None}
            continue
        fp, rows_sha256 = found
        prints[entry.name] = {
            "item": entry.item,
            **fp.as_dict(),
            "definition": definition_of(snap, spec, entry, method),
            "rows_file": f"{entry.name}.tsv",
            "rows_sha256": rows_sha256,
        }
    return prints


def definition_of(snap: Snapshot, spec: Spec, entry: Any, method: fingerprint.Method) -> str:
    """The set's hashed rows as SQL on this database (fragments resolved, parameters inlined, sub-counts included):
    rows compared under another definition would all look changed, so a changed definition is refused, not diffed."""
    found = protect.rows(snap, spec, entry)
    if found.select is None:
        return ""
    query = fingerprint.hashed_rows(found, method)
    return snap.shown(query, found.params) if found.params is not None else snap.text(query)


def capture(snap: Snapshot, spec: Spec, started_at: dt.datetime, staging: Path, code: dict[str, Any]) -> dict[str, Any]:
    """Everything phase 5 needs, read in the one snapshot; row side files go to `staging`."""
    identity = snap.identity()
    module = odoo.module_state(snap, spec.deployment.module)
    modules = odoo.modules_state(snap, [m.name for m in spec.all_modules])
    method = fingerprint.method_for(snap)
    prints = protected(snap, spec, staging, method)
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
        "modules": modules.values,  # every deployed module's state and latest_version before the deployment
        "odoo": schema_of(snap),
        "fingerprint": fingerprint.record(snap, method),
        "figures": figures_of(prints),
        "fingerprints": prints,
        "code": code,
    }
    declared = checks.values_for_baseline(snap, spec)  # the [[checks]] that compare with `baseline`
    if declared:
        data["checks"] = declared
    data["digest"] = canonical_digest(data)
    return data


# The payment layout of a database without the account module (a stock or website deployment, say).
NO_PAYMENTS = "none"


def schema_of(snap: Snapshot) -> dict[str, str]:
    """The Odoo release and payment layout the baseline's figures and fingerprints were computed on
    (NO_PAYMENTS where the database has no account_payment: nothing there depends on the layout)."""
    has_payments = odoo.layout(snap).has_table("account_payment")
    return {"version": odoo.version(snap).latest_version, "payments": odoo.payment_layout(snap).key if has_payments else NO_PAYMENTS}


def schema_line(data: dict[str, Any]) -> str:
    schema = data["odoo"]
    return f"Odoo: base {schema['version']}, payment layout {schema['payments']!r}"


def layout_change(base: Baseline, snap: Snapshot) -> str:
    """Why the baseline's payment figures cannot be compared with this database ('' when they can).

    A baseline taken on another payment layout (a major-version migration in
    between) would report every payment as changed: that is an error, not a diff.
    """
    before = base.data.get("odoo")
    if not before:  # taken by an earlier release of deploylog: Odoo 17 only
        return ""
    now = schema_of(snap)
    if before["payments"] == now["payments"]:
        return ""
    return (
        f"the baseline was taken on Odoo base {before['version']} (payment layout {before['payments']!r}), the database now "
        f"runs base {now['version']} (payment layout {now['payments']!r}): its payment figures and fingerprints are not "
        "comparable; a major-version migration is not a module deployment (new [deployment] id, then phase 0)"
    )


def archive_existing(spec: Spec) -> Path | None:
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


def store(spec: Spec, snap: Snapshot, started_at: dt.datetime, hosts: Sequence[Host] | None = None) -> dict[str, Any]:
    """Capture and write a new baseline: rows into place first, the JSON last (its rename commits it).

    Refuses (DeploylogError) when the HEAD before the deployment cannot be
    recorded on every host (default: this machine).
    """
    code, problems = code_state(spec, hosts if hosts is not None else [hostio.local_host()])
    if problems:
        raise DeploylogError("; ".join(problems))
    target = path_for(spec)
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{spec.deployment_id}.rows."))
    try:
        data = capture(snap, spec, started_at, staging, code)
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
        return str(self.data["digest"])

    @property
    def started_at(self) -> dt.datetime:
        return dt.datetime.fromisoformat(self.data["phase0_started_at"])

    @property
    def captured_at(self) -> dt.datetime:
        return dt.datetime.fromisoformat(self.data["captured_at"])

    @property
    def code(self) -> dict[str, Any]:
        code: dict[str, Any] = self.data.get("code", {})
        return code

    def head_on(self, host: Host) -> str | None:
        """The checkout's HEAD on `host` before the deployment (None when the baseline has none for it)."""
        entry = self.code.get("hosts", {}).get(hostio.host_name(host)) or {}
        return str(entry["head"]) if entry.get("head") else None

    @property
    def figures(self) -> dict[str, Any]:
        figures: dict[str, Any] = self.data["figures"]
        return figures

    @property
    def identity(self) -> Identity:
        return Identity(**self.data["database"])

    @property
    def method(self) -> fingerprint.Method:
        return fingerprint.method_of(self.data["fingerprint"])

    def entry(self, name: str) -> dict[str, Any] | None:
        """The baseline's record of a protected set (None when phase 0 did not know the set)."""
        found: dict[str, Any] | None = self.data["fingerprints"].get(name)
        return found

    def rows_file(self, name: str) -> Path | None:
        entry = self.entry(name)
        return self.path.with_suffix(".rows") / entry["rows_file"] if entry and entry.get("rows_file") else None


def load(spec: Spec) -> Baseline:
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
    if isinstance(data, dict) and data.get("format") == 1:
        raise DeploylogError(
            f"baseline {path} is format 1 (no HEAD per host) and cannot be used: before deploying, re-run phase 0 with "
            "--recapture-baseline; after, start a new attempt with a new [deployment] id"
        )
    if isinstance(data, dict) and data.get("format") == 2:
        raise DeploylogError(
            f"baseline {path} is format 2 (an earlier deploylog's md5 fingerprints of built-in sets), not comparable with "
            f"format {FORMAT} ([[protect]] sets): before deploying, recapture it with `{RECAPTURE_COMMAND}`; after, start a "
            "new attempt with a new [deployment] id"
        )
    if not isinstance(data, dict) or data.get("format") != FORMAT or "digest" not in data:
        raise DeploylogError(f"baseline {path} is not a deploylog baseline (format {FORMAT} with a digest)")
    if canonical_digest(data) != data["digest"]:
        raise DeploylogError(f"baseline {path} was modified after capture (digest mismatch): it cannot be trusted")
    if data.get("deployment_id") != spec.deployment_id:
        raise DeploylogError(f"baseline {path} belongs to deployment {data.get('deployment_id')!r}, not {spec.deployment_id!r}")
    baseline = Baseline(data, path)
    for name, entry in data["fingerprints"].items():
        if not entry.get("rows_file"):
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
    problem = fingerprint.incomparable(baseline.data["fingerprint"], server_major(current.server_version))
    if problem:
        raise DeploylogError(
            f"baseline {baseline.path}: {problem} (the server was upgraded since phase 0: a new attempt needs a new "
            "[deployment] id, then phase 0)"
        )


def server_major(version: str) -> int:
    """18 for '18.6', '16.4 (Debian 16.4-1)'; 0 when the text is not a version."""
    head = version.split(".", 1)[0].split(" ", 1)[0]
    return int(head) if head.isdigit() else 0


def started_at_of(path: Path) -> dt.datetime | None:
    """When the phase 0 that wrote the baseline at `path` started, even from a baseline load() refuses."""
    try:
        return dt.datetime.fromisoformat(json.loads(path.read_text())["phase0_started_at"])
    except (OSError, ValueError, KeyError, TypeError):
        try:
            return dt.datetime.fromtimestamp(path.stat().st_mtime, dt.UTC)
        except OSError:
            return None


def deployment_started(spec: Spec, hosts: Sequence[Host]) -> str:
    """Why phase 0 may no longer write this deployment's baseline ('' while it may).

    Once the deployment has started, a baseline captured now would describe
    the database after (part of) the change and prove nothing: the log holds a
    run of phases 1-6, or a backup of this deployment is newer than the
    stored baseline's phase 0.
    """
    run = query.first_post_run(spec.paths.report_dir, spec.deployment_id)
    if run is not None:
        which = f"run #{run.get('seq')}, `{query.short_command(run)}`, started {run.get('started')}"
        return f"the execution log already holds a run of phases 1-6 ({which})"
    path = path_for(spec)
    since = started_at_of(path) if path.exists() else None
    if since is None:
        return ""
    for host in hosts:
        for pattern in (backup.dump_pattern(spec), backup.archive_pattern(spec), backup.MARKER_PATTERN):
            found = backup.newest(host, spec.paths.backup_dir, pattern)
            if found is not None and found.mtime is not None and found.mtime > since:
                return (
                    f"backup {found.path} on {hostio.host_name(host)} (written {found.mtime_text}) is newer than "
                    f"the baseline's phase 0 ({since.isoformat(timespec='seconds')})"
                )
    return ""
