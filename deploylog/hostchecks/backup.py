"""Phase 1: the backups (1.1 database dump, 1.2 code archive, 1.3 snapshot marker).

Names follow the template, with a UTC timestamp:
  <backup_dir>/<db>_PRE_DEPLOY_<YYYYmmdd_HHMMSS>.dump      pg_dump -Fc
  <backup_dir>/<module>_<YYYYmmdd_HHMMSS>.tar.gz           the module directory
  <backup_dir>/DEPLOYMENT_SNAPSHOT_<YYYYmmdd_HHMMSS>       sizes + sha256 of both
The newest file of each kind is the one verified. Every backup must be newer
than the start of phase 0: a dump from last week is not this deployment's.
"""

from __future__ import annotations

import datetime as dt
import fnmatch
import posixpath
import re
import tarfile
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from deploylog.figures import Dump
from deploylog.hostchecks import hostio
from deploylog.hostchecks.code import read_manifest
from deploylog.result import CheckResult, failed, passed

STAMP = "%Y%m%d_%H%M%S"
# Tables whose data the dump must hold; the reconciliation table is added from deploy.toml.
PROTECTED_TABLES = ("account_payment", "account_move", "account_move_line")
OPTIONAL_PROTECTED = ("account_partial_reconcile", "account_full_reconcile")


def stamp(when: dt.datetime | None = None) -> str:
    return (when or dt.datetime.now(dt.UTC)).astimezone(dt.UTC).strftime(STAMP)


def dump_pattern(spec: Any) -> str:
    return f"{spec.database.name}_PRE_DEPLOY_*.dump"


def archive_pattern(spec: Any) -> str:
    return f"{spec.deployment.module}_*.tar.gz"


MARKER_PATTERN = "DEPLOYMENT_SNAPSHOT_*"


def pg_tool(spec: Any, tool: str) -> str:
    return posixpath.join(spec.paths.pg_bin_dir, tool) if spec.paths.pg_bin_dir else tool


def newest(host: Any, directory: str, pattern: str) -> hostio.Stat | None:
    """The most recent file matching pattern (by mtime, then name)."""
    names = [n for n in hostio.listdir(host, directory) if fnmatch.fnmatchcase(n, pattern)]
    stats = [hostio.stat(host, posixpath.join(directory, n)) for n in names]
    stats = [s for s in stats if s.exists and not s.is_dir]
    if not stats:
        return None
    return max(stats, key=lambda s: (s.mtime, s.path))


def _mb(size: int) -> str:
    return f"{size / 1_048_576:.2f} MB ({size} bytes)"


def _age_problem(found: hostio.Stat, started_at: dt.datetime | None) -> str:
    if started_at is not None and found.mtime is not None and found.mtime < started_at:
        return (
            f"written {found.mtime_text}, before phase 0 started at "
            f"{started_at.isoformat(timespec='seconds')}: not this deployment's backup"
        )
    return ""


def _missing(item: str, spec: Any, pattern: str, host: Any) -> CheckResult:
    directory = spec.paths.backup_dir
    entries = ", ".join(hostio.listdir(host, directory)) or "(empty or absent)"
    return failed(
        item,
        f"FAILED: no {pattern} in {directory}",
        queries=[f"ls {directory}/{pattern}"],
        evidence=f"Backup dir: {directory}\nEntries: {entries}",
        host=hostio.host_name(host),
    )


# ---------------------------------------------------------------- 1.1 dump


@dataclass
class Listing:
    ok: bool
    tables: set[str]
    data: set[str]
    error: str = ""
    header: str = ""


def parse_listing(text: str) -> tuple[set[str], set[str], str]:
    """(tables, tables with TABLE DATA, header comment) from `pg_restore --list` output."""
    tables, data, header = set(), set(), []
    for line in text.splitlines():
        if line.startswith(";"):
            if ":" in line:
                header.append(line.lstrip("; ").rstrip())
            continue
        m = re.match(r"^\d+; \d+ \d+ (TABLE DATA|TABLE) (\S+) (\S+) ", line)
        if m:
            (data if m.group(1) == "TABLE DATA" else tables).add(m.group(3))
    return tables, data, "\n".join(header)


def list_dump(spec: Any, host: Any, path: str) -> Listing:
    out = hostio.run(host, [pg_tool(spec, "pg_restore"), "--list", path])
    if out.rc != 0:
        return Listing(False, set(), set(), error=(out.stderr.strip().splitlines() or ["pg_restore failed"])[-1])
    tables, data, header = parse_listing(out.stdout)
    return Listing(True, tables, data, header=header)


def read_whole_dump(spec: Any, host: Any, path: str) -> str:
    """'' when every data block reads to its end; the error otherwise.

    `pg_restore --list` reads only the table of contents at the head of the file,
    so a dump cut short still lists fine; restoring it to /dev/null reads it all.
    """
    out = hostio.run(host, [pg_tool(spec, "pg_restore"), "--file=/dev/null", path])
    if out.rc != 0:
        return (out.stderr.strip().splitlines() or ["pg_restore failed"])[-1]
    return ""


def required_tables(spec: Any, listing: Listing) -> list[str]:
    wanted = list(PROTECTED_TABLES)
    for table in (*OPTIONAL_PROTECTED, spec.reconciliation.table):
        if table in listing.tables:  # only where the database has the table at all
            wanted.append(table)
    return wanted


def database_dump(
    spec: Any, started_at: dt.datetime | None, host: Any | None = None, restore_check: Callable[[str], tuple[bool, str]] | None = None
) -> CheckResult:
    """1.1: newest dump exists, is newer than phase 0, lists and reads whole, holds the protected data.

    restore_check: optional callable(path) -> (ok, evidence) for the deep mode
    (restore into a scratch database and compare counts with the baseline).
    """
    host = host or hostio.local_host()
    name = hostio.host_name(host)
    found = newest(host, spec.paths.backup_dir, dump_pattern(spec))
    if found is None:
        return _missing("1.1", spec, dump_pattern(spec), host)
    restore = pg_tool(spec, "pg_restore")
    queries = [
        hostio.shown([restore, "--list", found.path]),
        hostio.shown([restore, "--file=/dev/null", found.path]),
        f"sha256sum {found.path}",
    ]
    digest = hostio.sha256(host, found.path)
    listing = list_dump(spec, host, found.path)
    problems = []
    age = _age_problem(found, started_at)
    if age:
        problems.append(f"dump {age}")
    read_error = ""
    if not listing.ok:
        problems.append(f"pg_restore --list cannot read it: {listing.error}")
    else:
        read_error = read_whole_dump(spec, host, found.path)
        if read_error:
            problems.append(f"dump is incomplete (truncated?): pg_restore: {read_error}")
    wanted = required_tables(spec, listing) if listing.ok else []
    no_data = [t for t in wanted if t not in listing.data]
    if listing.ok and no_data:
        problems.append(f"no TABLE DATA for {', '.join(no_data)}")
    lines = [
        f"Command: pg_dump -d {spec.database.name} -Fc -f {found.path}",
        f"File Path: {found.path}",
        f"File Size: {_mb(found.size)}",
        f"Written: {found.mtime_text}" + (f"  (phase 0 started {started_at.isoformat(timespec='seconds')})" if started_at else ""),
        f"SHA-256: {digest}",
        "",
        "pg_restore --list: " + ("OK" if listing.ok else f"ERROR {listing.error}"),
        "Full read (pg_restore to /dev/null): " + ("not run" if not listing.ok else read_error or "OK"),
        *[f"  TABLE DATA {t}: {'present' if t in listing.data else 'MISSING'}" for t in wanted],
    ]
    if listing.header:
        lines += ["", listing.header]
    figures = Dump(found.path, found.size, digest, {"mtime": found.mtime_text, "tables_with_data": sorted(listing.data)})
    if not problems and restore_check is not None:
        ok, text = restore_check(found.path)
        lines += ["", "Restore verification (scratch database):", text]
        if not ok:
            problems.append("restored copy does not match the baseline counts")
    evidence = "\n".join(lines)
    if problems:
        return failed("1.1", "FAILED: " + "; ".join(problems), evidence=evidence, queries=queries, figures=figures, host=name)
    verified = "VERIFIED" + (" (restored and counted)" if restore_check is not None else "")
    return passed(
        "1.1",
        f"CREATED + {verified}: {posixpath.basename(found.path)}, {_mb(found.size)}",
        evidence=evidence,
        queries=queries,
        figures=figures,
        host=name,
    )


# ------------------------------------------------------------ 1.2 archive


def _archive_members(host: Any, path: str) -> tuple[list[str], str]:
    """(member names, error): the archive is read to its end, so truncation shows."""
    if hostio.is_local(host):
        try:
            with tarfile.open(path, "r:gz") as tar:
                return [m.name for m in tar], ""
        except (tarfile.TarError, OSError, EOFError) as exc:
            return [], str(exc) or type(exc).__name__
    out = hostio.run(host, ["tar", "-tzf", path])
    if out.rc != 0:
        return [], (out.stderr.strip().splitlines() or ["tar failed"])[-1]
    return out.stdout.splitlines(), ""


def _archived_version(host: Any, path: str, member: str) -> str | None:
    """The version in the archived manifest (read as a literal), None when unreadable."""
    try:
        if hostio.is_local(host):
            with tarfile.open(path, "r:gz") as tar:
                fh = tar.extractfile(member)
                source = fh.read() if fh else b""
        else:
            out = hostio.run(host, ["tar", "-xzOf", path, member])
            source = out.stdout_bytes
        version = read_manifest(source)[0].get("version")
        return version if isinstance(version, str) else None
    except Exception:  # a broken member is reported as "unreadable", not a crash
        return None


def code_backup(spec: Any, started_at: dt.datetime | None, host: Any | None = None) -> CheckResult:
    """1.2: newest module archive exists, reads whole, holds <module>/__manifest__.py (the old version)."""
    host = host or hostio.local_host()
    name = hostio.host_name(host)
    found = newest(host, spec.paths.backup_dir, archive_pattern(spec))
    if found is None:
        return _missing("1.2", spec, archive_pattern(spec), host)
    module = spec.deployment.module
    manifest = f"{module}/__manifest__.py"
    queries = [f"tar -tzf {found.path}", f"sha256sum {found.path}"]
    digest = hostio.sha256(host, found.path)
    members, error = _archive_members(host, found.path)
    normalized = {m.lstrip("./") for m in members}
    problems = []
    age = _age_problem(found, started_at)
    if age:
        problems.append(f"archive {age}")
    if error:
        problems.append(f"archive is not readable: {error}")
    elif manifest not in normalized:
        problems.append(f"archive does not hold {manifest}")
    version = None
    if not problems:
        member = next(m for m in members if m.lstrip("./") == manifest)
        version = _archived_version(host, found.path, member)
        previous = spec.deployment.previous_version
        if previous and version != previous:
            problems.append(
                f"archived manifest is version {version!r}, expected the pre-deployment {previous!r} "
                "(a backup of the new code cannot roll back)"
            )
    evidence = "\n".join(
        [
            f"File Path: {found.path}",
            f"File Size: {_mb(found.size)}",
            f"Written: {found.mtime_text}",
            f"SHA-256: {digest}",
            f"Members: {len(members)}" + (f" (read error: {error})" if error else ""),
            f"{manifest}: {'present' if manifest in normalized else 'MISSING'}" + (f", version {version}" if version else ""),
        ]
    )
    figures = {"path": found.path, "size": found.size, "sha256": digest, "members": len(members), "archived_version": version}
    if problems:
        return failed("1.2", "FAILED: " + "; ".join(problems), evidence=evidence, queries=queries, figures=figures, host=name)
    return passed(
        "1.2",
        f"CREATED + VERIFIED: {posixpath.basename(found.path)}, {_mb(found.size)}, {len(members)} members",
        evidence=evidence,
        queries=queries,
        figures=figures,
        host=name,
    )


# ------------------------------------------------------------- 1.3 marker


def snapshot_marker(spec: Any, started_at: dt.datetime | None, host: Any | None = None) -> CheckResult:
    """1.3: the snapshot marker exists and was written for this deployment (after phase 0 started)."""
    host = host or hostio.local_host()
    name = hostio.host_name(host)
    found = newest(host, spec.paths.backup_dir, MARKER_PATTERN)
    if found is None:
        return _missing("1.3", spec, MARKER_PATTERN, host)
    try:
        content = hostio.read_bytes(host, found.path)[:4096].decode("utf-8", "replace")
    except OSError as exc:
        content = f"(unreadable: {exc})"
    evidence = f"File Path: {found.path}\nCreated: YES ({found.mtime_text})\n\n{content.rstrip()}"
    age = _age_problem(found, started_at)
    queries = [f"ls -l {found.path}"]
    if age:
        return failed("1.3", f"stale marker: {age}", evidence=evidence, queries=queries, host=name)
    return passed(
        "1.3",
        f"COMPLETE: {posixpath.basename(found.path)}",
        evidence=evidence,
        queries=queries,
        figures={"path": found.path},
        host=name,
    )
