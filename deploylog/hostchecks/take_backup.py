"""Take the phase-1 backups the template's way, so nobody types them by hand.

  pg_dump -Fc          -> <backup_dir>/<db>_PRE_DEPLOY_<ts>.dump
  tar.gz of the module -> <backup_dir>/<module>_<ts>.tar.gz
  marker               -> <backup_dir>/DEPLOYMENT_SNAPSHOT_<ts> (sizes + sha256 of both)

Each file is written under a `.partial` name and renamed when complete, so a
dump cut short by a full disk or a Ctrl-C never carries the name 1.1 checks.
Runs on the Odoo host itself (local files, local pg_dump).
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
import tarfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from deploylog import db
from deploylog.errors import DeploylogError
from deploylog.files import sha256_file
from deploylog.hostchecks import backup


@dataclass
class Taken:
    kind: str
    path: Path
    size: int
    sha256: str

    def line(self) -> str:
        return f"{self.kind:<8} {self.path}  {self.size / 1_048_576:.2f} MB ({self.size} bytes)  sha256 {self.sha256}"


def _taken(kind: str, path: Path) -> Taken:
    return Taken(kind, path, path.stat().st_size, sha256_file(path))


def pg_binary(spec: Any, tool: str) -> str:
    found = backup.pg_tool(spec, tool)
    if os.sep in found:
        if not Path(found).exists():
            raise DeploylogError(f"{found} not found (paths.pg_bin_dir)")
        return found
    located = shutil.which(found)
    if not located:
        raise DeploylogError(f"{tool} not on PATH: install the PostgreSQL client or set paths.pg_bin_dir")
    return located


def dump_database(spec: Any, target: Path, dsn: str | None = None) -> Taken:
    conninfo = db.conninfo_for(
        dsn if dsn is not None else spec.database.dsn,
        spec.database.name,
        spec.database.statement_timeout_ms,
        spec.database.lock_timeout_ms,
        spec.database.connect_timeout_s,
    )
    partial = target.with_name(target.name + ".partial")
    argv = [pg_binary(spec, "pg_dump"), "--format=custom", f"--file={partial}", "--no-password", f"--dbname={conninfo}"]
    out = subprocess.run(argv, capture_output=True, text=True, check=False)
    if out.returncode != 0:
        partial.unlink(missing_ok=True)
        first = out.stderr.strip().splitlines()[-1] if out.stderr.strip() else "pg_dump failed"
        raise DeploylogError(f"pg_dump of {spec.database.name} failed: {first}")
    partial.rename(target)
    return _taken("dump", target)


def archive_module(spec: Any, target: Path) -> Taken:
    module_dir = Path(spec.module_dir)
    if not (module_dir / "__manifest__.py").is_file():
        raise DeploylogError(f"{module_dir} holds no __manifest__.py: not the module to back up (paths.module_dir)")
    partial = target.with_name(target.name + ".partial")
    with tarfile.open(partial, "w:gz") as tar:
        tar.add(module_dir, arcname=spec.deployment.module)
    partial.rename(target)
    return _taken("archive", target)


def write_marker(spec: Any, target: Path, when: dt.datetime, taken: list[Taken]) -> Taken:
    lines = [
        f"deployment: {spec.deployment_id}",
        f"created: {when.isoformat(timespec='seconds')}",
        f"database: {spec.database.name}",
        f"module: {spec.deployment.module} (module dir {spec.module_dir})",
        *[f"{t.kind}: {t.path} size={t.size} sha256={t.sha256}" for t in taken],
    ]
    partial = target.with_name(target.name + ".partial")
    partial.write_text("\n".join(lines) + "\n")
    partial.rename(target)
    return _taken("marker", target)


def take_backups(spec: Any, backup_dir: str | None = None, dsn: str | None = None, when: dt.datetime | None = None) -> list[Taken]:
    """Dump, archive, marker - in that order; the marker records the other two."""
    when = when or dt.datetime.now(dt.UTC)
    stamp = backup.stamp(when)
    directory = Path(backup_dir or spec.paths.backup_dir)
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DeploylogError(f"cannot create the backup dir {directory}: {exc.strerror}") from None
    names = [
        directory / f"{spec.database.name}_PRE_DEPLOY_{stamp}.dump",
        directory / f"{spec.deployment.module}_{stamp}.tar.gz",
        directory / f"DEPLOYMENT_SNAPSHOT_{stamp}",
    ]
    taken = [n for n in names if n.exists()]
    if taken:  # a backup is evidence: never replaced silently
        raise DeploylogError(f"{taken[0]} already exists: wait a second and run again")
    dump = dump_database(spec, names[0], dsn)
    archive = archive_module(spec, names[1])
    marker = write_marker(spec, names[2], when, [dump, archive])
    return [dump, archive, marker]
