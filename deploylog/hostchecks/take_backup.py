"""Take the phase-1 backups the template's way, so nobody types them by hand.

  pg_dump              -> <backup_dir>/<db>_PRE_DEPLOY_<ts>.dump
                          ([backup] format: a directory (-Fd, parallel jobs, SHA256SUMS of its files)
                          or the template's single -Fc file; dump_plan says how)
  tar.gz of the module -> <backup_dir>/<module>_<ts>.tar.gz (one per deployed module; none for a first
                          install with no code yet)
  marker               -> <backup_dir>/DEPLOYMENT_SNAPSHOT_<ts> (sizes + sha256 of the others)

Each file (and the dump directory) is written under a `.partial` name and
renamed when complete, so a dump cut short by a full disk or a Ctrl-C never
carries the name 1.1 checks, and the partial output is removed whatever
stopped it (pg_dump is stopped and waited for first). pg_dump waits at most
`[database] lock_timeout_ms` for each table's lock, and gets the password
through a passfile, never on its command line. Its progress goes to the
given stream (deploylog.progress), never into a file of the log.
Runs on the Odoo host itself (local files, local pg_dump).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
import re
import shutil
import tarfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from deploylog import db
from deploylog.errors import DeploylogError
from deploylog.files import sha256_file
from deploylog.hostchecks import backup, dump_plan, dumpdir, pgauth, watch
from deploylog.progress import Progress, human_bytes
from deploylog.spec import Spec

if TYPE_CHECKING:  # imported where used: start-up (pytest --co, the CLI) needs none of it
    pass


@dataclass(frozen=True)
class Taken:
    """One backup file written: what it is, where, its size and sha256 (printed for the log)."""

    kind: str
    path: Path
    size: int
    sha256: str
    detail: str = ""  # how it was made, for the printout (a dump's format, jobs, compression)


def _taken(kind: str, path: Path) -> Taken:
    return Taken(kind, path, path.stat().st_size, sha256_file(path))


def pg_binary(spec: Spec, tool: str) -> str:
    found = backup.pg_tool(spec, tool)
    if os.sep in found:
        if not Path(found).exists():
            raise DeploylogError(f"{found} not found (paths.pg_bin_dir)")
        return found
    located = shutil.which(found)
    if not located:
        raise DeploylogError(f"{tool} not on PATH: install the PostgreSQL client or set paths.pg_bin_dir")
    return located


@contextmanager
def _publishing(target: Path) -> Iterator[Path]:
    """Write under `<target>.partial`, renamed to target once complete; the partial never outlives a failure.

    Also on KeyboardInterrupt: a dump cut short must never be left where 1.1 or
    a rollback could take it for a backup.
    """
    partial = target.with_name(target.name + ".partial")
    try:
        yield partial
        partial.rename(target)  # a directory dump too: one rename, never half a directory under the final name
    finally:
        if partial.is_dir():
            shutil.rmtree(partial, ignore_errors=True)
        else:
            partial.unlink(missing_ok=True)


# pg_dump locks every table it dumps in a few batched statements: "LOCK TABLE public.a, public.b IN ACCESS SHARE MODE"
_LOCK_QUERY = re.compile(r"LOCK TABLE (?P<tables>.+?) IN ACCESS SHARE MODE")
_HELD_LOCKS = """
    SELECT DISTINCT format('%I.%I', n.nspname, c.relname)
      FROM pg_locks l JOIN pg_class c ON c.oid = l.relation JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE l.granted AND l.mode = 'AccessExclusiveLock' AND l.pid <> pg_backend_pid()
       AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
     ORDER BY 1"""


def _locked_tables(conninfo: str, candidates: list[str]) -> list[str]:
    """Which of the tables pg_dump waited for another session holds ACCESS EXCLUSIVE on now; [] when unknown."""
    import psycopg

    try:
        with psycopg.connect(conninfo) as conn:
            held = [row[0] for row in conn.execute(_HELD_LOCKS).fetchall()]
    except psycopg.Error:
        return []
    return [t for t in held if t in candidates]


def _dump_error(spec: Spec, stderr: str, conninfo: str) -> str:
    """One line naming the cause: the locked table and the setting to raise, or pg_dump's own error."""
    name = spec.database.name
    waited = _LOCK_QUERY.search(stderr)
    if waited and "timeout" in stderr:
        candidates = [t.strip() for t in waited.group("tables").split(",")]
        found = candidates if len(candidates) == 1 else _locked_tables(conninfo, candidates)
        what = f"table {', '.join(found)} is" if found else f"one of {len(candidates)} tables is"
        return (
            f"pg_dump of {name} gave up: {what} locked by another session and stayed locked for "
            f"[database] lock_timeout_ms = {spec.database.lock_timeout_ms} ms; end that session or raise the setting"
        )
    lines = [line for line in stderr.strip().splitlines() if line.strip()]
    errors = [line for line in lines if "error:" in line]
    return f"pg_dump of {name} failed: {(errors or lines or ['pg_dump failed'])[-1]}"


def dump_database(spec: Spec, target: Path, dsn: str | None = None, progress: TextIO | None = None) -> Taken:
    """pg_dump of the configured database as [backup] says; the password (if any) reaches pg_dump through a passfile, never argv.

    progress: where to show how far pg_dump is (a terminal line, or plain lines); None: nowhere.
    """
    conninfo = db.conninfo_for(
        dsn if dsn is not None else spec.database.dsn,
        spec.database.name,
        spec.database.statement_timeout_ms,
        spec.database.lock_timeout_ms,
        spec.database.connect_timeout_s,
    )
    plan = dump_plan.resolve(spec, pg_binary(spec, "pg_dump"))
    # pg_dump sets its own lock_timeout to 0 (waits forever); --lock-wait-timeout bounds the wait for each table's lock
    wait = [f"--lock-wait-timeout={spec.database.lock_timeout_ms}"] if spec.database.lock_timeout_ms > 0 else []
    sizes = watch.estimate(conninfo) if progress is not None else None
    with _publishing(target) as partial, pgauth.credentials(conninfo, local=True) as creds:
        argv = [plan.binary, *plan.options(), "--verbose", f"--file={partial}", "--no-password", *wait, f"--dbname={creds.conninfo}"]
        with Progress(
            f"pg_dump {spec.database.name}",
            total=len(sizes.tables) if sizes else None,
            unit="tables",
            size=(sizes.table_bytes or None) if sizes else None,
            stream=progress,
        ) as bar:
            if sizes:
                bar.say(f"{plan.describe()}; database {human_bytes(sizes.database_bytes)}, tables ~{human_bytes(sizes.table_bytes)}")
            else:
                bar.say(plan.describe())
            tracker = watch.DumpWatch(bar, sizes.tables if sizes else {}, parallel=plan.jobs > 1)
            returncode, stderr = watch.run_watched(argv, {**os.environ, **creds.env}, partial, bar, tracker)
            if returncode != 0:
                raise DeploylogError(_dump_error(spec, stderr, conninfo))
        written = dumpdir.write_manifest(partial) if plan.format == "directory" else None
    if written is None:
        return dataclasses.replace(_taken("dump", target), detail=plan.describe())
    detail = f"{plan.describe()}; {written.files} files, sha256 of its {dumpdir.MANIFEST}"
    return Taken("dump", target, written.size, written.sha256, detail)


def archive_module(spec: Spec, target: Path, module: str = "") -> Taken:
    """The tar.gz of a deployed module's directory (the primary module's by default), archived as <module>/..."""
    module = module or spec.deployment.module
    module_dir = spec.module_dir_of(module)
    if not (module_dir / "__manifest__.py").is_file():
        raise DeploylogError(f"{module_dir} holds no __manifest__.py: not the module {module} to back up (paths.module_dir)")
    with _publishing(target) as partial, tarfile.open(partial, "w:gz") as tar:
        tar.add(module_dir, arcname=module)
    return _taken("archive", target)


def archived_modules(spec: Spec) -> list[str]:
    """The modules to archive: every deployed one, but a first install whose code is not there yet."""
    return [m.name for m in spec.all_modules if not m.first_install or (spec.module_dir_of(m.name) / "__manifest__.py").is_file()]


def write_marker(spec: Spec, target: Path, when: dt.datetime, taken: list[Taken]) -> Taken:
    lines = [
        f"deployment: {spec.deployment_id}",
        f"created: {when.isoformat(timespec='seconds')}",
        f"database: {spec.database.name}",
        *[f"module: {m.name} (module dir {spec.module_dir_of(m.name)})" for m in spec.all_modules],
        *[f"{t.kind}: {t.path} size={t.size} sha256={t.sha256}" for t in taken],
    ]
    with _publishing(target) as partial:
        partial.write_text("\n".join(lines) + "\n")
    return _taken("marker", target)


def take_backups(
    spec: Spec,
    backup_dir: str | None = None,
    dsn: str | None = None,
    when: dt.datetime | None = None,
    progress: TextIO | None = None,
) -> list[Taken]:
    """Dump, module archives, marker - in that order; the marker records the others. progress: as dump_database."""
    when = when or dt.datetime.now(dt.UTC)
    stamp = backup.stamp(when)
    directory = Path(backup_dir or spec.paths.backup_dir)
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DeploylogError(f"cannot create the backup dir {directory}: {exc.strerror}") from None
    modules = archived_modules(spec)
    archives = {module: directory / f"{module}_{stamp}.tar.gz" for module in modules}
    names = [
        directory / f"{spec.database.name}_PRE_DEPLOY_{stamp}.dump",
        *archives.values(),
        directory / f"DEPLOYMENT_SNAPSHOT_{stamp}",
    ]
    taken = [n for n in names if n.exists()]
    if taken:  # a backup is evidence: never replaced silently
        raise DeploylogError(f"{taken[0]} already exists: wait a second and run again")
    dump = dump_database(spec, names[0], dsn, progress)
    archived = [archive_module(spec, target, module) for module, target in archives.items()]
    marker = write_marker(spec, names[-1], when, [dump, *archived])
    return [dump, *archived, marker]
