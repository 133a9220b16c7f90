"""What "VERIFIED" should really mean for 1.1: the dump restores, and holds the baseline's data.

Opt-in (`[database] verify_restore = true`, or `deploylog backup --verify-restore`):
the dump is restored into a scratch database on the server of `restore_dsn`
(default: the deployment's dsn), the phase-5 figures and fingerprints are
computed there in a read-only snapshot and compared with the baseline, and the
scratch database is dropped. This is the one place deploylog writes: a new
database of its own, never the Odoo database.
pg_restore loads `[backup] jobs` tables at once (default: the host's CPUs, at
most 8), from a directory dump or a custom-format file alike; its progress
(the scratch database's growth against the source's pg_database_size) goes to
the given stream, never into the log.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import TYPE_CHECKING, TextIO

from deploylog import baseline as baseline_mod
from deploylog import db, fingerprint
from deploylog.errors import DeploylogError
from deploylog.hostchecks import backup, dump_plan, hostio, pgauth, watch
from deploylog.progress import Progress
from deploylog.spec import Spec

if TYPE_CHECKING:  # imported where used: start-up (pytest --co, the CLI) needs none of it
    from testinfra.host import Host


def _admin_conninfo(spec: Spec, admin_dsn: str | None) -> str:
    from psycopg.conninfo import conninfo_to_dict, make_conninfo

    dsn = admin_dsn or spec.database.restore_dsn or spec.database.dsn
    params = conninfo_to_dict(dsn)
    params.setdefault("dbname", spec.database.name)
    params["application_name"] = db.APPLICATION_NAME
    params.setdefault("connect_timeout", str(spec.database.connect_timeout_s))
    return make_conninfo("", **params)


def _compare(spec: Spec, scratch_conninfo: str, base: baseline_mod.Baseline) -> tuple[bool, list[str]]:
    import psycopg

    snap = db.Snapshot(
        psycopg.connect(
            db.conninfo_for(
                scratch_conninfo,
                "",
                spec.database.statement_timeout_ms,
                spec.database.lock_timeout_ms,
                spec.database.connect_timeout_s,
            )
        )
    )
    try:
        return _compared(snap, spec, base)
    finally:
        snap.close()


def _compared(snap: db.Snapshot, spec: Spec, base: baseline_mod.Baseline) -> tuple[bool, list[str]]:
    """Every [[protect]] set of the restored copy: its counts and fingerprint against the baseline's."""
    lines, ok = [f"{'figure':<28} {'baseline':>10} {'restored':>10}"], True
    problem = fingerprint.incomparable(base.data["fingerprint"], baseline_mod.server_major(snap.identity().server_version))
    if problem:
        return False, [*lines, f"fingerprints NOT COMPARED: {problem}; restore on a server of that version (restore_dsn)"]
    prints: dict[str, fingerprint.Fingerprint | fingerprint.Absent] = {}
    for entry in spec.protect:
        prints[entry.name] = fingerprint.compute(snap, spec, entry, base.method)
    now = baseline_mod.figures_of(
        {
            n: {"count": p.count, "counts": p.counts} if isinstance(p, fingerprint.Fingerprint) else {"count": None}
            for n, p in prints.items()
        }
    )
    for key in sorted(set(base.figures) | set(now)):
        before, after = base.figures.get(key), now.get(key)
        same = before == after
        ok &= same
        lines.append(f"{key:<28} {before!s:>10} {after!s:>10}{'' if same else '  MISMATCH'}")
    for name, current in prints.items():
        recorded = base.entry(name)
        if recorded is None or "absent" in recorded:
            continue
        same = isinstance(current, fingerprint.Fingerprint) and current.digest == recorded.get("digest")
        ok &= same
        lines.append(f"{'fingerprint ' + name:<28} {'identical' if same else 'DIFFERS':>21}")
    return ok, lines


def restore_jobs(spec: Spec, host: Host) -> int:
    """[backup] jobs, or the CPUs of the host pg_restore runs on (at most dump_plan.MAX_AUTO_JOBS)."""
    if spec.backup.jobs:
        return spec.backup.jobs
    if hostio.is_local(host):
        return dump_plan.auto_jobs()
    out = hostio.run(host, ["nproc"])
    try:
        return max(1, min(int(out.stdout.strip()), dump_plan.MAX_AUTO_JOBS))
    except ValueError:  # no nproc: one process is slower, never wrong
        return 1


def _source_estimate(spec: Spec) -> watch.Estimate | None:
    dsn = db.conninfo_for(
        spec.database.dsn,
        spec.database.name,
        spec.database.statement_timeout_ms,
        spec.database.lock_timeout_ms,
        spec.database.connect_timeout_s,
    )
    return watch.estimate(dsn)


def verify_on_host(
    spec: Spec,
    host: Host,
    dump_path: str,
    admin_dsn: str | None = None,
    base: baseline_mod.Baseline | None = None,
    progress: TextIO | None = None,
) -> tuple[bool, str]:
    """(ok, evidence): restore the host's dump into a scratch database, compare with the baseline, drop it.

    pg_restore runs on the host that holds the dump, `restore_jobs` tables at
    once; its password (if the dsn has one) never appears on its command line
    (pgauth). progress: where to show how far the restore is; None: nowhere.
    """
    import psycopg
    from psycopg import sql
    from psycopg.conninfo import make_conninfo

    base = base or baseline_mod.load(spec)
    admin = _admin_conninfo(spec, admin_dsn)
    scratch = f"{spec.database.name[:30]}_deploylog_verify_{backup.stamp()}".lower()
    scratch_conninfo = make_conninfo(admin, dbname=scratch)
    try:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(sql.SQL("CREATE DATABASE {} TEMPLATE template0").format(sql.Identifier(scratch)))
    except psycopg.Error as exc:
        raise DeploylogError(f"cannot create the scratch database {scratch}: {str(exc).strip().splitlines()[0]}") from None
    try:
        jobs = restore_jobs(spec, host)
        source = _source_estimate(spec) if progress is not None else None
        with pgauth.credentials(scratch_conninfo, hostio.is_local(host)) as creds:
            argv = [
                backup.pg_tool(spec, "pg_restore"),
                *([f"--jobs={jobs}"] if jobs > 1 else []),
                "--no-owner",
                "--no-privileges",
                "--exit-on-error",
                "--no-password",
                f"--dbname={creds.conninfo}",
                dump_path,
            ]
            lines = [f"Scratch database: {scratch} on {db.conninfo_safe(admin)}", "Command: " + hostio.shown(argv)]
            lines += [f"Password: {creds.note}"] if creds.note else []
            started = dt.datetime.now(dt.UTC)
            with Progress(
                f"restore check {scratch}",
                total=source.tables_with_data if source else None,
                unit="tables loaded",
                size=(source.database_bytes or None) if source else None,
                stream=progress,
            ) as bar:
                bar.say(f"pg_restore of {dump_path}, {jobs} job{'s' if jobs != 1 else ''}")
                out = watch.run_restore_watched(lambda: hostio.run(host, argv, env=creds.env), scratch_conninfo, bar)
        if out.rc != 0:
            return False, "\n".join([*lines, f"pg_restore FAILED: {hostio.last_error(out, 'pg_restore failed')}"])
        lines.append(f"Restored in {(dt.datetime.now(dt.UTC) - started).total_seconds():.1f}s")
        ok, compared = _compare(spec, scratch_conninfo, base)
        return ok, "\n".join([*lines, "", *compared])
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(scratch)))


def verify_against_baseline(
    spec: Spec,
    dump_path: str,
    admin_dsn: str | None = None,
    base: baseline_mod.Baseline | None = None,
    progress: TextIO | None = None,
) -> tuple[bool, str]:
    """`deploylog backup --verify-restore`: the dump that command has just written on this machine."""
    return verify_on_host(spec, hostio.local_host(), dump_path, admin_dsn, base, progress)


def checker(spec: Spec, base: baseline_mod.Baseline, host: Host, progress: TextIO | None = None) -> Callable[[str], tuple[bool, str]]:
    """The deep mode of 1.1, as a callable the dump check runs after its own checks pass."""

    def check(path: str) -> tuple[bool, str]:
        try:
            return verify_on_host(spec, host, path, base=base, progress=progress)
        except DeploylogError as exc:
            return False, str(exc)

    return check
