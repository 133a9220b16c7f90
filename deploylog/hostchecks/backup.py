"""Phase 1: the backups (1.1 database dump, 1.2 code archive, 1.3 snapshot marker).

Names follow the template, with a UTC timestamp:
  <backup_dir>/<db>_PRE_DEPLOY_<YYYYmmdd_HHMMSS>.dump      pg_dump -Fc, or a pg_dump -Fd directory
  <backup_dir>/<module>_<YYYYmmdd_HHMMSS>.tar.gz           the module directory
  <backup_dir>/DEPLOYMENT_SNAPSHOT_<YYYYmmdd_HHMMSS>       sizes + sha256 of both
The newest file of each kind is the one verified. Every backup must be newer
than the start of phase 0: a dump from last week is not this deployment's.
A dump is judged by what its own header says (database, creation time, server
version), never by its file name or mtime alone: a renamed dump of a staging
copy, or an old dump touched to now, is not this deployment's backup.
A directory dump is read the same way (pg_restore takes the directory), and
each of its files is hashed and compared with the SHA256SUMS written with it
(dumpdir).
"""

from __future__ import annotations

import datetime as dt
import fnmatch
import posixpath
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from deploylog.errors import DeploylogError
from deploylog.figures import Dump
from deploylog.hostchecks import dumpdir, hostio
from deploylog.hostchecks.code import read_manifest
from deploylog.result import CheckResult, failed, passed
from deploylog.spec import Module, Spec

if TYPE_CHECKING:  # imported where used: start-up (pytest --co, the CLI) needs none of it
    from testinfra.host import Host

STAMP = "%Y%m%d_%H%M%S"
# Odoo's reconciliation tables: required in the dump wherever the database has them (with [reconciliation]'s).
OPTIONAL_PROTECTED = ("account_partial_reconcile", "account_full_reconcile")


def stamp(when: dt.datetime | None = None) -> str:
    return (when or dt.datetime.now(dt.UTC)).astimezone(dt.UTC).strftime(STAMP)


def dump_pattern(spec: Spec) -> str:
    return f"{spec.database.name}_PRE_DEPLOY_*.dump"


# the archive's stamp exactly: `sale_*` would also take `sale_stock_<ts>.tar.gz` for module sale's
_STAMP_GLOB = "[0-9]" * 8 + "_" + "[0-9]" * 6


def archive_pattern(spec: Spec, module: str = "") -> str:
    """The name of a deployed module's code archives (the primary module's by default)."""
    return f"{module or spec.deployment.module}_{_STAMP_GLOB}.tar.gz"


def archive_name(module: str) -> str:
    """The archive name as a message says it."""
    return f"{module}_<YYYYmmdd_HHMMSS>.tar.gz"


MARKER_PATTERN = "DEPLOYMENT_SNAPSHOT_*"


def pg_tool(spec: Spec, tool: str) -> str:
    return posixpath.join(spec.paths.pg_bin_dir, tool) if spec.paths.pg_bin_dir else tool


def newest(host: Host, directory: str, pattern: str, directories: bool = True) -> hostio.Stat | None:
    """The most recent entry matching pattern (by mtime, then name); directories: a directory counts too (a -Fd dump)."""
    names = [n for n in hostio.listdir(host, directory) if fnmatch.fnmatchcase(n, pattern)]
    stats = [hostio.stat(host, posixpath.join(directory, n)) for n in names]
    stats = [s for s in stats if s.exists and (directories or not s.is_dir)]
    if not stats:
        return None
    return max(stats, key=lambda s: (s.mtime or dt.datetime.min.replace(tzinfo=dt.UTC), s.path))


def _mb(size: int) -> str:
    return f"{size / 1_048_576:.2f} MB ({size} bytes)"


def _age_problem(found: hostio.Stat, started_at: dt.datetime | None) -> str:
    if started_at is not None and found.mtime is not None and found.mtime < started_at:
        return (
            f"written {found.mtime_text}, before phase 0 started at "
            f"{started_at.isoformat(timespec='seconds')}: not this deployment's backup"
        )
    return ""


def _newest_or_missing(
    item: str, spec: Spec, pattern: str, host: Host, shown: str = "", directories: bool = False
) -> hostio.Stat | CheckResult:
    """The newest backup of a kind, or the item's FAIL listing what the backup dir holds instead."""
    directory = spec.paths.backup_dir
    found = newest(host, directory, pattern, directories)
    if found is not None:
        return found
    entries = ", ".join(hostio.listdir(host, directory)) or "(empty or absent)"
    return failed(
        item,
        f"FAILED: no {shown or pattern} in {directory}",
        queries=[f"ls {directory}/{pattern}"],
        evidence=f"Backup dir: {directory}\nEntries: {entries}",
        host=hostio.host_name(host),
    )


# ---------------------------------------------------------------- 1.1 dump


@dataclass(frozen=True)
class Header:
    """The header comment of `pg_restore --list`: what the dump says about itself."""

    fields: dict[str, str] = field(default_factory=dict)  # "dbname" -> "osusproperties", ...
    created: str = ""  # "2025-12-22 10:15:03 CET": pg_restore's local wall time, with its zone

    @property
    def dbname(self) -> str:
        return self.fields.get("dbname", "")

    @property
    def server_version(self) -> str:
        return self.fields.get("Dumped from database version", "")


@dataclass
class Listing:
    ok: bool
    tables: set[str]
    data: set[str]
    error: str = ""
    header: Header = field(default_factory=Header)


_CREATED = re.compile(r"^;\s*Archive created at (?P<when>.+?)\s*$")
_HEADER_FIELD = re.compile(r"^;\s+(?P<key>[A-Za-z][^:]*):\s*(?P<value>.*?)\s*$")
_TOC_LINE = re.compile(r"^\d+; \d+ \d+ (TABLE DATA|TABLE) (\S+) (\S+) ")


def parse_listing(text: str) -> tuple[set[str], set[str], Header]:
    """(tables, tables with TABLE DATA, header) from `pg_restore --list` output."""
    tables: set[str] = set()
    data: set[str] = set()
    fields: dict[str, str] = {}
    created = ""
    for line in text.splitlines():
        if line.startswith(";"):
            if m := _CREATED.match(line):
                created = m.group("when")
            elif m := _HEADER_FIELD.match(line):
                fields[m.group("key")] = m.group("value")
            continue
        if m := _TOC_LINE.match(line):
            (data if m.group(1) == "TABLE DATA" else tables).add(m.group(3))
    return tables, data, Header(fields, created)


def list_dump(spec: Spec, host: Host, path: str) -> Listing:
    out = hostio.run(host, [pg_tool(spec, "pg_restore"), "--list", path])
    if out.rc != 0:
        return Listing(False, set(), set(), error=hostio.last_error(out, "pg_restore failed"))
    tables, data, header = parse_listing(out.stdout)
    return Listing(True, tables, data, header=header)


_WALL = re.compile(r"^(?P<wall>\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)\s*(?P<zone>\S*)$")
_ROUND_TRIP = "+%s %Y-%m-%d %H:%M:%S %Z"


def created_utc(host: Host, created: str) -> dt.datetime:
    """The header's "Archive created at" as an aware UTC time, converted on the host itself.

    A custom-format dump stores the wall-clock fields of its creation, and
    pg_restore prints them in its own local zone. So the host's `date`, in the
    same environment pg_restore ran in, turns the wall time back into an
    instant; the answer counts only when it prints back exactly as pg_restore
    did (zone abbreviation included), which also settles the repeated hour
    when daylight saving time ends.
    """
    m = _WALL.match(created.strip())
    if not m:
        raise DeploylogError(f"the dump's header has an unreadable creation time: {created!r}")
    printed = created.strip()
    guess = hostio.run(host, ["date", "-d", m.group("wall"), _ROUND_TRIP])
    if guess.rc != 0:
        raise DeploylogError(f"cannot convert the dump's creation time on the host: date: {hostio.last_error(guess, 'failed')}")
    epoch, _, back = guess.stdout.strip().partition(" ")
    candidates = [int(epoch)]
    if back.strip() == printed:
        return dt.datetime.fromtimestamp(candidates[0], dt.UTC)
    for other in (candidates[0] - 3600, candidates[0] + 3600):
        out = hostio.run(host, ["date", "-d", f"@{other}", _ROUND_TRIP])
        if out.rc == 0 and out.stdout.strip().partition(" ")[2].strip() == printed:
            return dt.datetime.fromtimestamp(other, dt.UTC)
    raise DeploylogError(
        f"cannot convert the dump's creation time {printed!r} to UTC on the host: its `date` reads it as {back.strip()!r} "
        "(pg_restore and date disagree on the time zone)"
    )


def read_whole_dump(spec: Spec, host: Host, path: str) -> str:
    """'' when every data block reads to its end; the error otherwise.

    `pg_restore --list` reads only the table of contents at the head of the file,
    so a dump cut short still lists fine; restoring it to /dev/null reads it all.
    """
    out = hostio.run(host, [pg_tool(spec, "pg_restore"), "--file=/dev/null", path])
    return hostio.last_error(out, "pg_restore failed") if out.rc != 0 else ""


def required_tables(spec: Spec, listing: Listing) -> list[str]:
    """The tables whose data the dump must hold: [backup] required_tables, else the [[protect]] sets' tables;
    an optional set's table and the reconciliation tables only where the dump's database has them."""
    wanted = list(spec.backup.required_tables)
    maybe = [*OPTIONAL_PROTECTED, *((spec.reconciliation.table,) if spec.reconciliation else ())]
    if not wanted:
        for entry in spec.protect:
            if entry.table and not entry.table.startswith("{"):  # a fragment ({reconciliation.table}) is added above
                (maybe if entry.optional else wanted).append(entry.table)
    for table in maybe:
        if table in listing.tables and table not in wanted:  # only where the database has the table at all
            wanted.append(table)
    return list(dict.fromkeys(wanted))


def leading_version(text: str) -> str:
    """'16.4' of '16.4 (Debian 16.4-1.pgdg120+1)'; '' when there is none."""
    m = re.match(r"\s*(\d+(?:\.\d+)*)", text)
    return m.group(1) if m else ""


def _header_checks(
    spec: Spec, header: Header, created: dt.datetime | None, started_at: dt.datetime | None, server_version: str | None
) -> tuple[list[str], list[str]]:
    """(problems, evidence lines) of the dump's own header against this deployment."""
    expected = spec.database.name
    lines = [
        "Header (pg_restore --list, read from the file):",
        f"  dbname: {header.dbname or '(none)'}  (expected {expected}, [database] name)",
        f"  Archive created at: {header.created or '(none)'}" + (f" = {created.isoformat(timespec='seconds')}" if created else ""),
        f"  Dumped from database version: {header.server_version or '(none)'}"
        + (f"  (baseline server {server_version})" if server_version else ""),
        *[
            f"  {key}: {header.fields[key]}"
            for key in ("Dumped by pg_dump version", "Format", "Compression", "TOC Entries")
            if key in header.fields
        ],
    ]
    problems = []
    if header.dbname != expected:
        problems.append(f"dump is of database {header.dbname or '(none)'!r} (read from its header), not {expected!r} [database] name")
    if created is None:
        problems.append("the dump's header has no creation time")
    # the header is in whole seconds: a dump started in phase 0's own second is not "before" it
    elif started_at is not None and created < started_at.replace(microsecond=0):
        problems.append(
            f"dump header says it was created at {created.isoformat(timespec='seconds')}, before phase 0 started at "
            f"{started_at.isoformat(timespec='seconds')}: not this deployment's backup"
        )
    if server_version and leading_version(header.server_version) != leading_version(server_version):
        problems.append(
            f"dump is from a PostgreSQL {header.server_version or '(unknown)'} server, the baseline's server is "
            f"{server_version}: another server's dump"
        )
    return problems, lines


def _directory_digest_note(contents: dumpdir.Checked) -> str:
    if contents.manifest is not None:
        return f"  (of its {dumpdir.MANIFEST})"
    return f"  (of its files' digests, listed as a {dumpdir.MANIFEST} would list them)"


def _directory_lines(contents: dumpdir.Checked) -> list[str]:
    if contents.manifest is None:
        head = (
            f"Files: {len(contents.digests)}, no {dumpdir.MANIFEST} (not written by deploylog backup): "
            "digests recorded, compared with nothing"
        )
    else:
        head = f"Files: {len(contents.digests)}, each compared with {dumpdir.MANIFEST} ({len(contents.manifest)} entries)"
    return [head, *contents.lines()]


def _dump_values(found: hostio.Stat, listing: Listing, created: dt.datetime | None) -> dict[str, Any]:
    header = listing.header
    return {
        "mtime": found.mtime_text,
        "dbname": header.dbname,
        "created_at": header.created,
        "created_utc": created.isoformat(timespec="seconds") if created else None,
        "server_version": header.server_version,
        "pg_dump_version": header.fields.get("Dumped by pg_dump version", ""),
        "format": header.fields.get("Format", ""),
        "compression": header.fields.get("Compression", ""),
        "toc_entries": header.fields.get("TOC Entries", ""),
        "tables_with_data": sorted(listing.data),
    }


def database_dump(
    spec: Spec,
    started_at: dt.datetime | None,
    host: Host,
    *,
    server_version: str | None = None,
    restore_check: Callable[[str], tuple[bool, str]] | None = None,
) -> CheckResult:
    """1.1 (P.2 with started_at None): the newest dump is this database's, newer than phase 0, reads whole.

    server_version: the baseline's server version; a dump of another server's database fails.
    restore_check: optional callable(path) -> (ok, evidence) for the deep mode
    (restore into a scratch database and compare counts with the baseline).
    """
    found = _newest_or_missing("1.1", spec, dump_pattern(spec), host, directories=True)
    if isinstance(found, CheckResult):
        return found
    restore = pg_tool(spec, "pg_restore")
    queries = [
        hostio.shown([restore, "--list", found.path]),
        hostio.shown([restore, "--file=/dev/null", found.path]),
    ]
    problems = []
    contents = None
    if found.is_dir:  # a directory dump: every file hashed on the host, compared with its SHA256SUMS
        queries.append(f"cd {found.path} && sha256sum -c {dumpdir.MANIFEST}  # each file against the manifest written with it")
        contents = dumpdir.check(host, found.path)
        digest, size = contents.sha256, contents.size
        problems += contents.problems
    else:
        queries.append(f"sha256sum {found.path}")
        digest, size = hostio.sha256(host, found.path), found.size
    listing = list_dump(spec, host, found.path)
    age = _age_problem(found, started_at)
    if age:
        problems.append(f"dump {age}")
    header_lines: list[str] = []
    created = None
    read_error = "not run"
    if not listing.ok:
        problems.append(f"pg_restore --list cannot read it: {listing.error}")
    else:
        if listing.header.created:
            queries.append(f"date -d '<Archive created at>' '{_ROUND_TRIP}'  # the header's wall time -> UTC, on the host")
            created = created_utc(host, listing.header.created)
        header_problems, header_lines = _header_checks(spec, listing.header, created, started_at, server_version)
        problems += header_problems
        if header_problems:
            read_error = "not run: the header already rules the dump out"
        else:
            read_error = read_whole_dump(spec, host, found.path) or "OK"
            if read_error != "OK":
                problems.append(f"dump is incomplete (truncated?): pg_restore: {read_error}")
    wanted = required_tables(spec, listing) if listing.ok else []
    no_data = [t for t in wanted if t not in listing.data]
    if listing.ok and no_data:
        problems.append(f"no TABLE DATA for {', '.join(no_data)}")
    lines = [
        f"File Path: {found.path}" + ("  (a directory: pg_dump --format=directory)" if contents else ""),
        f"File Size: {_mb(size)}",
        f"Written: {found.mtime_text}" + (f"  (phase 0 started {started_at.isoformat(timespec='seconds')})" if started_at else ""),
        f"SHA-256: {digest}" + (_directory_digest_note(contents) if contents else ""),
        *(_directory_lines(contents) if contents else []),
        "",
        *header_lines,
        "",
        "pg_restore --list: " + ("OK" if listing.ok else f"ERROR {listing.error}"),
        f"Full read (pg_restore to /dev/null): {read_error}",
        *[f"  TABLE DATA {t}: {'present' if t in listing.data else 'MISSING'}" for t in wanted],
    ]
    values = _dump_values(found, listing, created)
    if contents:
        values.update(files=len(contents.digests), manifest=contents.manifest is not None)
    figures = Dump(found.path, size, digest, values)
    if not problems and restore_check is not None:
        ok, text = restore_check(found.path)
        lines += ["", "Restore verification (scratch database):", text]
        if not ok:
            problems.append("restored copy does not match the baseline counts")
    evidence = "\n".join(lines)
    name = hostio.host_name(host)
    if problems:
        return failed("1.1", "FAILED: " + "; ".join(problems), evidence=evidence, queries=queries, figures=figures, host=name)
    verified = "VERIFIED" + (" (restored and counted)" if restore_check is not None else "")
    return passed(
        "1.1",
        f"CREATED + {verified}: {posixpath.basename(found.path)}, {_mb(size)}, database {listing.header.dbname}",
        evidence=evidence,
        queries=queries,
        figures=figures,
        host=name,
    )


# ------------------------------------------------------------ 1.2 archive


def _archive_members(host: Host, path: str) -> tuple[list[str], str]:
    """(member names, error): the archive is read to its end, so truncation shows."""
    out = hostio.run(host, ["tar", "-tzf", path])
    if out.rc != 0:
        return [], hostio.last_error(out, "tar failed")
    return out.stdout.splitlines(), ""


def _archived_version(host: Host, path: str, member: str) -> str | None:
    """The version in the archived manifest (read as a literal), None when unreadable."""
    out = hostio.run(host, ["tar", "-xzOf", path, member])
    if out.rc != 0:
        return None
    try:
        version = read_manifest(out.stdout_bytes)[0].get("version")
    except ValueError:  # a broken member is reported as "unreadable", not a crash
        return None
    return version if isinstance(version, str) else None


def code_backup(spec: Spec, started_at: dt.datetime | None, host: Host) -> CheckResult:
    """1.2: each deployed module's newest archive exists, reads whole, holds <module>/__manifest__.py (the old version)."""
    results = [module_backup(spec, module, started_at, host) for module in spec.all_modules]
    if len(results) == 1:
        return results[0]
    modules = [m.name for m in spec.all_modules]
    failing = [(m, r) for m, r in zip(modules, results, strict=True) if r.status != "PASS"]
    evidence = "\n\n".join(f"{m}:\n{r.message}\n{r.evidence}".rstrip() for m, r in zip(modules, results, strict=True))
    kw: dict[str, Any] = {
        "evidence": evidence,
        "queries": [q for r in results for q in r.queries],
        "figures": {"archives": {m: r.figures.to_dict() for m, r in zip(modules, results, strict=True)}},
        "host": hostio.host_name(host),
    }
    if failing:
        return failed("1.2", "FAILED: " + "; ".join(f"{m}: {r.message.removeprefix('FAILED: ')}" for m, r in failing), **kw)
    return passed(
        "1.2",
        f"CREATED + VERIFIED: {len(results)} modules: " + "; ".join(r.message.removeprefix("CREATED + VERIFIED: ") for r in results),
        **kw,
    )


def module_backup(spec: Spec, deployed: Module, started_at: dt.datetime | None, host: Host) -> CheckResult:
    """1.2 for one module: its newest archive (none needed for a declared first install that has none)."""
    module = deployed.name
    pattern = archive_pattern(spec, module)
    if deployed.first_install and newest(host, spec.paths.backup_dir, pattern) is None:
        return passed(
            "1.2",
            f"no archive of {module}: first install declared, no code of it before the deployment",
            queries=[f"ls {spec.paths.backup_dir}/{pattern}"],
            host=hostio.host_name(host),
        )
    found = _newest_or_missing("1.2", spec, pattern, host, archive_name(module))
    if isinstance(found, CheckResult):
        return found
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
        previous = deployed.previous_version
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
    name = hostio.host_name(host)
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


def snapshot_marker(spec: Spec, started_at: dt.datetime | None, host: Host) -> CheckResult:
    """1.3: the snapshot marker exists and was written for this deployment (after phase 0 started)."""
    found = _newest_or_missing("1.3", spec, MARKER_PATTERN, host)
    if isinstance(found, CheckResult):
        return found
    try:
        content = hostio.read_bytes(host, found.path)[:4096].decode("utf-8", "replace")
    except OSError as exc:
        content = f"(unreadable: {exc})"
    evidence = f"File Path: {found.path}\nCreated: YES ({found.mtime_text})\n\n{content.rstrip()}"
    age = _age_problem(found, started_at)
    queries = [f"ls -l {found.path}"]
    name = hostio.host_name(host)
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
