"""Phase 1 backups (real pg_dump / pg_restore) and 4.2-4.4 group resolution against a real PostgreSQL."""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import gzip
import hashlib
import os
import re
import shutil
import signal
import subprocess
import sys
import tarfile
import threading
import time
import tomllib
from pathlib import Path

import psycopg
import pytest
from psycopg import sql
from psycopg.conninfo import make_conninfo

from deploylog import db, tomlwrite
from deploylog.demo import module_repo as hr
from deploylog.errors import DeploylogError
from deploylog.files import sha256_file
from deploylog.hostchecks import backup, guards, take_backup
from selftests.support.host_spec import LOCAL, ROOT, make_spec
from selftests.support.postgres import Janitor

DB = "host_selftest_osus"  # the configured [database] name is the database the dsn reaches
HOUR = dt.timedelta(hours=1)


@pytest.fixture(scope="module")
def pg(pg_cluster):
    return pg_cluster


@pytest.fixture(scope="module")
def odoo_dsn(pg_cluster, odoo_template):
    with Janitor(pg_cluster, DB, odoo_template) as db:
        yield db.dsn


@pytest.fixture(scope="module")
def module_checkout(tmp_path_factory):
    repo, _ = hr.build_repo(tmp_path_factory.mktemp("code"))
    return repo


def spec_for(pg, dsn, repo, backup_dir, dump_format="custom", **more):
    return make_spec(
        database={"name": DB, "dsn": dsn},
        paths={"repo": str(repo), "backup_dir": str(backup_dir), "pg_bin_dir": str(pg.bin_dir)},
        backup={"format": dump_format},
        **more,
    )


def take(pg, odoo_dsn, module_checkout, backup_dir, dump_format):
    spec = spec_for(pg, odoo_dsn, module_checkout, backup_dir, dump_format)
    phase0 = dt.datetime.now(dt.UTC) - HOUR
    files = take_backup.take_backups(spec)
    return spec, phase0, files


@pytest.fixture(scope="module")
def taken(pg, odoo_dsn, module_checkout, tmp_path_factory):
    """One real set of backups (dump, archive, marker) taken with the command's own code, the dump the template's -Fc."""
    return take(pg, odoo_dsn, module_checkout, tmp_path_factory.mktemp("backups"), "custom")


@pytest.fixture(scope="module")
def taken_dir(pg, odoo_dsn, module_checkout, tmp_path_factory):
    """The same with a directory-format dump (the default: pg_dump -Fd, parallel jobs, SHA256SUMS)."""
    return take(pg, odoo_dsn, module_checkout, tmp_path_factory.mktemp("backups_dir"), "directory")


def fresh_copy(taken, tmp_path):
    """A private copy of the backup dir (with mtimes, a dump directory whole) so a test can damage it."""
    spec, phase0, files = taken
    target = tmp_path / "backups"
    target.mkdir(parents=True)
    for f in files:
        copy = target / f.path.name
        if f.path.is_dir():
            shutil.copytree(f.path, copy)  # copy2: each file's mtime kept
        else:
            copy.write_bytes(f.path.read_bytes())
        st = f.path.stat()
        os.utime(copy, ns=(st.st_atime_ns, st.st_mtime_ns))
    return (
        make_spec(
            database=dataclasses.asdict(spec.database),
            paths={**dataclasses.asdict(spec.paths), "backup_dir": str(target)},
            backup=dataclasses.asdict(spec.backup),
        ),
        phase0,
        target,
    )


# ------------------------------------------------------------------ 1.1-1.3


def test_backups_taken_the_template_way_pass_1_1_to_1_3(taken):
    spec, phase0, files = taken
    names = [f.path.name for f in files]
    assert names[0].startswith(f"{DB}_PRE_DEPLOY_") and names[0].endswith(".dump")
    assert names[1].startswith(f"{hr.MODULE}_") and names[1].endswith(".tar.gz")
    assert names[2].startswith("DEPLOYMENT_SNAPSHOT_")
    r11 = backup.database_dump(spec, phase0, LOCAL, server_version=server_version(spec))
    assert r11.status == "PASS", r11.message
    assert r11.message.endswith(f", database {DB}")
    assert files[0].sha256 in r11.evidence
    # the evidence shows what the file says about itself, not a command line rebuilt from deploy.toml
    assert "Command: pg_dump" not in r11.evidence
    assert f"  dbname: {DB}  (expected {DB}, [database] name)" in r11.evidence
    assert f"  Dumped from database version: {server_version(spec)}  (baseline server {server_version(spec)})" in r11.evidence
    assert r11.figures["dbname"] == DB and r11.figures["format"] == "CUSTOM"
    created = dt.datetime.fromisoformat(r11.figures["created_utc"])
    written = dt.datetime.fromtimestamp(files[0].path.stat().st_mtime, dt.UTC)
    assert dt.timedelta(0) <= written - created < dt.timedelta(minutes=1)  # header: the dump's start, in whole seconds
    for table in ("account_payment", "account_move", "account_move_line", "account_bank_reconciliation_line"):
        assert f"TABLE DATA {table}: present" in r11.evidence
    r12 = backup.code_backup(spec, phase0, LOCAL)
    assert r12.status == "PASS", r12.message
    assert f"{hr.MODULE}/__manifest__.py: present, version {hr.OLD_VERSION}" in r12.evidence
    r13 = backup.snapshot_marker(spec, phase0, LOCAL)
    assert r13.status == "PASS", r13.message
    assert f"sha256={files[0].sha256}" in r13.evidence and f"sha256={files[1].sha256}" in r13.evidence


def test_dump_older_than_phase_0_fails_1_1(taken, tmp_path):
    spec, _phase0, _ = fresh_copy(taken, tmp_path)
    r = backup.database_dump(spec, dt.datetime.now(dt.UTC) + HOUR, LOCAL)  # phase 0 began after the dump was written
    assert r.status == "FAIL" and r.item == "1.1"
    assert "before phase 0 started" in r.message and "not this deployment's backup" in r.message


def server_version(spec):
    with db.connect(spec) as conn:
        return conn.execute("SHOW server_version").fetchone()[0]


def dump_as(pg, database, target, env=None):
    """A real pg_dump -Fc of `database`, written under the name 1.1 looks for."""
    subprocess.run(
        [str(pg.bin_dir / "pg_dump"), "--format=custom", f"--file={target}", pg.dsn(database)],
        check=True,
        env={**os.environ, **(env or {})},
    )


def test_dump_of_a_staging_copy_fails_1_1_naming_its_database(pg, odoo_dsn, taken, tmp_path):
    spec, phase0, target = fresh_copy(taken, tmp_path)
    staging = f"{DB}_staging"
    with Janitor(pg, staging, DB):
        dump = next(target.glob("*.dump"))
        dump.unlink()
        dump_as(pg, staging, target / f"{DB}_PRE_DEPLOY_{backup.stamp()}.dump")  # same data, same name pattern
    r = backup.database_dump(spec, phase0, LOCAL, server_version=server_version(spec))
    assert r.status == "FAIL" and r.item == "1.1"
    assert r.message == f"FAILED: dump is of database {staging!r} (read from its header), not {DB!r} [database] name"
    assert f"  dbname: {staging}  (expected {DB}, [database] name)" in r.evidence
    assert "Full read (pg_restore to /dev/null): not run: the header already rules the dump out" in r.evidence


def test_old_dump_touched_to_now_fails_1_1_on_its_header_time(taken, tmp_path):
    spec, _, target = fresh_copy(taken, tmp_path)
    dump = next(target.glob("*.dump"))
    phase0 = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=2)  # phase 0 began after the dump was made...
    touched = (phase0 + dt.timedelta(seconds=1)).timestamp()
    os.utime(dump, (touched, touched))  # ...but its mtime says otherwise
    r = backup.database_dump(spec, phase0, LOCAL)
    assert r.status == "FAIL" and r.item == "1.1"
    assert r.message.startswith("FAILED: dump header says it was created at ")
    assert r.message.endswith(f", before phase 0 started at {phase0.isoformat(timespec='seconds')}: not this deployment's backup")
    assert "written" not in r.message  # the mtime alone would have passed it


def test_dump_of_another_server_fails_1_1(taken, tmp_path):
    spec, phase0, _ = fresh_copy(taken, tmp_path)
    ours = server_version(spec)
    r = backup.database_dump(spec, phase0, LOCAL, server_version="9.6.24")
    assert r.status == "FAIL"
    assert r.message == f"FAILED: dump is from a PostgreSQL {ours} server, the baseline's server is 9.6.24: another server's dump"


def test_dump_time_is_converted_to_utc_in_the_hosts_zone(pg, odoo_dsn, tmp_path, monkeypatch):
    # a dump made in New York: its header holds New York wall time, and pg_restore prints it with the reader's zone
    target = tmp_path / f"{DB}_PRE_DEPLOY_{backup.stamp()}.dump"
    made = dt.datetime.now(dt.UTC)
    dump_as(pg, DB, target, env={"TZ": "America/New_York"})
    monkeypatch.setenv("TZ", "America/New_York")  # the host's environment, where the dump was made
    header = backup.list_dump(make_spec(paths={"pg_bin_dir": str(pg.bin_dir)}), LOCAL, str(target)).header
    assert header.created.endswith((" EST", " EDT"))
    assert abs(backup.created_utc(LOCAL, header.created) - made) < dt.timedelta(seconds=5)
    # the hour repeated when daylight saving time ends: the zone abbreviation settles which one
    monkeypatch.setenv("TZ", "Europe/Berlin")
    assert backup.created_utc(LOCAL, "2025-10-26 02:30:00 CEST") == dt.datetime(2025, 10, 26, 0, 30, tzinfo=dt.UTC)
    assert backup.created_utc(LOCAL, "2025-10-26 02:30:00 CET") == dt.datetime(2025, 10, 26, 1, 30, tzinfo=dt.UTC)
    with pytest.raises(DeploylogError, match="pg_restore and date disagree on the time zone"):
        backup.created_utc(LOCAL, "2025-10-26 02:30:00 JST")


def test_truncated_dump_fails_1_1_although_its_listing_still_reads(taken, tmp_path):
    spec, phase0, target = fresh_copy(taken, tmp_path)
    dump = next(target.glob("*.dump"))
    data = dump.read_bytes()
    dump.write_bytes(data[: len(data) // 2])
    listing = backup.list_dump(spec, LOCAL, str(dump))
    assert listing.ok  # pg_restore --list only reads the table of contents...
    r = backup.database_dump(spec, phase0, LOCAL)
    assert r.status == "FAIL" and "dump is incomplete (truncated?)" in r.message  # ...the full read does not


def test_dump_without_table_data_fails_1_1(pg, odoo_dsn, taken, tmp_path):
    spec, phase0, target = fresh_copy(taken, tmp_path)
    dump = next(target.glob("*.dump"))
    subprocess.run([str(pg.bin_dir / "pg_dump"), "--format=custom", "--schema-only", f"--file={dump}", odoo_dsn], check=True)
    r = backup.database_dump(spec, phase0, LOCAL)
    assert r.status == "FAIL" and "no TABLE DATA for account_payment, account_move, account_move_line" in r.message


def test_garbage_and_missing_dump_fail_1_1(taken, tmp_path):
    spec, phase0, target = fresh_copy(taken, tmp_path)
    dump = next(target.glob("*.dump"))
    dump.write_bytes(b"not a dump\n")
    r = backup.database_dump(spec, phase0, LOCAL)
    assert r.status == "FAIL" and "pg_restore --list cannot read it" in r.message
    dump.unlink()
    r = backup.database_dump(spec, phase0, LOCAL)
    assert r.status == "FAIL" and f"no {DB}_PRE_DEPLOY_*.dump in {target}" in r.message


def test_backup_dir_given_as_a_symlink_is_listed(taken, tmp_path):
    spec, phase0, target = fresh_copy(taken, tmp_path)
    link = tmp_path / "backups-link"
    link.symlink_to(target)  # /var/odoo/backups -> /mnt/backups
    spec = make_spec(database=dataclasses.asdict(spec.database), paths={**dataclasses.asdict(spec.paths), "backup_dir": str(link)})
    for check in (backup.database_dump, backup.code_backup, backup.snapshot_marker):
        r = check(spec, phase0, LOCAL)
        assert r.status == "PASS", r.message


def test_truncated_archive_fails_1_2(taken, tmp_path):
    spec, phase0, target = fresh_copy(taken, tmp_path)
    archive = next(target.glob("*.tar.gz"))
    data = archive.read_bytes()
    archive.write_bytes(data[: len(data) // 2])
    r = backup.code_backup(spec, phase0, LOCAL)
    assert r.status == "FAIL" and "archive is not readable" in r.message


def test_archive_without_manifest_or_of_the_new_code_fails_1_2(taken, tmp_path, module_checkout):
    spec, phase0, target = fresh_copy(taken, tmp_path)
    archive = next(target.glob("*.tar.gz"))
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(module_checkout / hr.MODULE / "models", arcname=f"{hr.MODULE}/models")
    r = backup.code_backup(spec, phase0, LOCAL)
    assert r.status == "FAIL" and f"does not hold {hr.MODULE}/__manifest__.py" in r.message
    new_code = tmp_path / "new" / hr.MODULE
    new_code.mkdir(parents=True)
    (new_code / "__manifest__.py").write_text(hr.MANIFEST.format(version=hr.NEW_VERSION))
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(new_code, arcname=hr.MODULE)
    r = backup.code_backup(spec, phase0, LOCAL)
    assert r.status == "FAIL" and "cannot roll back" in r.message


def test_stale_or_missing_marker_fails_1_3(taken, tmp_path):
    spec, _, target = fresh_copy(taken, tmp_path)
    r = backup.snapshot_marker(spec, dt.datetime.now(dt.UTC) + HOUR, LOCAL)
    assert r.status == "FAIL" and "stale marker" in r.message
    next(target.glob("DEPLOYMENT_SNAPSHOT_*")).unlink()
    r = backup.snapshot_marker(spec, None, LOCAL)
    assert r.status == "FAIL" and "no DEPLOYMENT_SNAPSHOT_*" in r.message


# ----------------------------------------------------- 1.1 directory dumps


def biggest_data_file(dump):
    """The largest table's data file (<dump id>.dat[.gz|.lz4|.zst]; toc.dat is the table of contents)."""
    return max((f for f in dump.iterdir() if re.match(r"\d+\.dat", f.name)), key=lambda f: f.stat().st_size)


def test_directory_dump_passes_1_1_with_every_file_hashed(taken_dir):
    spec, phase0, files = taken_dir
    dump = files[0].path
    assert dump.is_dir() and dump.name.endswith(".dump") and (dump / "toc.dat").is_file()
    # the manifest is what `sha256sum -c` reads, and the dump's one digest is its sha256
    check = subprocess.run(["sha256sum", "--check", "--strict", "SHA256SUMS"], cwd=dump, capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr
    assert files[0].sha256 == hashlib.sha256((dump / "SHA256SUMS").read_bytes()).hexdigest()
    r = backup.database_dump(spec, phase0, LOCAL, server_version=server_version(spec))
    assert r.status == "PASS", r.message
    assert r.message.endswith(f", database {DB}") and f"({files[0].size} bytes)" in r.message
    assert r.figures["format"] == "DIRECTORY" and r.figures["sha256"] == files[0].sha256
    data_files = sorted(f for f in dump.iterdir() if f.name != "SHA256SUMS")
    assert r.figures["files"] == len(data_files) and r.figures["manifest"] is True
    assert f"SHA-256: {files[0].sha256}  (of its SHA256SUMS)" in r.evidence
    assert f"Files: {len(data_files)}, each compared with SHA256SUMS ({len(data_files)} entries)" in r.evidence
    for f in data_files:  # every file's digest is in the evidence
        assert f"  {f.name}  {f.stat().st_size} bytes  sha256 {sha256_file(f)}\n" in r.evidence + "\n"
    assert "Full read (pg_restore to /dev/null): OK" in r.evidence
    for table in ("account_payment", "account_move", "account_move_line", "account_bank_reconciliation_line"):
        assert f"TABLE DATA {table}: present" in r.evidence
    assert backup.code_backup(spec, phase0, LOCAL).status == "PASS"
    r13 = backup.snapshot_marker(spec, phase0, LOCAL)
    assert r13.status == "PASS" and f"dump: {dump} size={files[0].size} sha256={files[0].sha256}" in r13.evidence


def test_changed_file_of_a_directory_dump_fails_1_1_naming_it(taken_dir, tmp_path):
    spec, phase0, target = fresh_copy(taken_dir, tmp_path)
    dump = next(target.glob("*.dump"))
    # another table's data in its place: still a valid gzip that pg_restore reads whole - only its digest tells
    victim = next(f for f in sorted(dump.iterdir()) if f.name.endswith(".dat.gz"))
    victim.write_bytes(gzip.compress(b"1\tforged\n"))
    r = backup.database_dump(spec, phase0, LOCAL)
    assert r.status == "FAIL" and r.item == "1.1"
    assert r.message == (f"FAILED: dump file(s) changed since the dump was written (sha256 differs from SHA256SUMS): {victim.name}")
    assert f"  {victim.name}  {victim.stat().st_size} bytes  sha256 {sha256_file(victim)}  CHANGED (manifest " in r.evidence
    assert "Full read (pg_restore to /dev/null): OK" in r.evidence  # pg_restore alone would have passed it


def test_changed_checksum_in_the_manifest_fails_1_1_naming_the_file(taken_dir, tmp_path):
    spec, phase0, target = fresh_copy(taken_dir, tmp_path)
    dump = next(target.glob("*.dump"))
    manifest = dump / "SHA256SUMS"
    lines = manifest.read_text().splitlines()
    digest, name = lines[0].split("  ", 1)
    lines[0] = f"{'0' * 64}  {name}"
    manifest.write_text("\n".join(lines) + "\n")
    r = backup.database_dump(spec, phase0, LOCAL)
    assert r.status == "FAIL"
    assert f"dump file(s) changed since the dump was written (sha256 differs from SHA256SUMS): {name}" in r.message
    assert f"  {name}  " in r.evidence and f"sha256 {digest}  CHANGED (manifest {'0' * 64})" in r.evidence


def test_missing_or_added_file_of_a_directory_dump_fails_1_1_naming_it(taken_dir, tmp_path):
    spec, phase0, target = fresh_copy(taken_dir, tmp_path)
    dump = next(target.glob("*.dump"))
    gone = biggest_data_file(dump)
    gone.unlink()
    r = backup.database_dump(spec, phase0, LOCAL)
    assert r.status == "FAIL"
    assert f"dump file(s) listed in SHA256SUMS are missing: {gone.name}" in r.message
    assert "dump is incomplete (truncated?): pg_restore: " in r.message and gone.name.split(".")[0] in r.message
    assert f"  {gone.name}  MISSING (manifest " in r.evidence
    spec, phase0, target = fresh_copy(taken_dir, tmp_path / "again")
    dump = next(target.glob("*.dump"))
    (dump / "9999.dat").write_text("stray\n")
    r = backup.database_dump(spec, phase0, LOCAL)
    assert r.status == "FAIL"
    assert r.message == "FAILED: dump file(s) not in SHA256SUMS (added after the dump was written): 9999.dat"


def test_directory_dump_without_manifest_is_read_whole_and_its_digests_recorded(pg, odoo_dsn, tmp_path):
    """A nightly `pg_dump -Fd` made without deploylog (P.2's usual case): no manifest to compare with, the full read still counts."""
    backups = tmp_path / "backups"
    backups.mkdir()
    dump = backups / f"{DB}_PRE_DEPLOY_nightly.dump"
    subprocess.run([str(pg.bin_dir / "pg_dump"), "-Fd", "-j2", "--compress=0", f"--file={dump}", odoo_dsn], check=True)
    spec = make_spec(database={"name": DB, "dsn": odoo_dsn}, paths={"backup_dir": str(backups), "pg_bin_dir": str(pg.bin_dir)})
    r = backup.database_dump(spec, None, LOCAL)
    assert r.status == "PASS", r.message
    files = sorted(dump.iterdir())
    assert (
        f"Files: {len(files)}, no SHA256SUMS (not written by deploylog backup): digests recorded, compared with nothing" in r.evidence
    )
    listing = "".join(f"{sha256_file(f)}  {f.name}\n" for f in files)
    assert r.figures["sha256"] == hashlib.sha256(listing.encode()).hexdigest() and r.figures["manifest"] is False
    # uncompressed data cut short: no digest to compare, pg_restore's full read still finds the hole
    biggest_data_file(dump).unlink()
    r = backup.database_dump(spec, None, LOCAL)
    assert r.status == "FAIL" and "dump is incomplete (truncated?)" in r.message


def test_p2_sees_the_newest_dump_whether_file_or_directory(taken, taken_dir, tmp_path):
    spec, _, target = fresh_copy(taken, tmp_path)
    older = next(target.glob("*.dump"))
    past = time.time() - 3600
    os.utime(older, (past, past))
    directory = taken_dir[2][0].path
    copied = target / directory.name.replace(".dump", "_dir.dump")  # both fixtures may have dumped in one second
    shutil.copytree(directory, copied)
    found = backup.newest(LOCAL, str(target), backup.dump_pattern(spec))
    assert found is not None and found.path == str(copied) and found.is_dir
    r = backup.database_dump(spec, None, LOCAL).replace(item="P.2")
    assert r.status == "PASS" and r.figures["format"] == "DIRECTORY"
    # 1.2 and 1.3 never take a directory for their file
    (target / "DEPLOYMENT_SNAPSHOT_29991231_000000").mkdir()
    assert backup.snapshot_marker(spec, None, LOCAL).figures["path"] != str(target / "DEPLOYMENT_SNAPSHOT_29991231_000000")


def backup_config(tmp_path, pg, odoo_dsn, module_checkout, **backup_section):
    config = tmp_path / "deploy.toml"
    raw = tomllib.loads((ROOT / "deploy.toml").read_text())
    raw["database"].update(name=DB, dsn=odoo_dsn)
    raw["paths"].update(
        repo=str(module_checkout), backup_dir=str(tmp_path / "bk"), pg_bin_dir=str(pg.bin_dir), baseline_dir=str(tmp_path / "baseline")
    )
    if backup_section:
        raw["backup"] = backup_section
    config.write_text(tomlwrite.dumps(raw))
    return config


# the last progress line on stderr: "pg_dump <db>: 22/22 tables, 100% of ~216.5 MB, 39.0 MB written, done in 0:11"
PROGRESS_DONE = re.compile(
    rf"^pg_dump {DB}: (?P<done>\d+)/(?P<total>\d+) tables, 100% of ~[\d.]+ [kMG]?B, [\d.]+ [kMG]?B written, done in \d+:\d\d$"
)


def test_backup_command_prints_sizes_and_digests(pg, odoo_dsn, module_checkout, tmp_path):
    config = backup_config(tmp_path, pg, odoo_dsn, module_checkout)
    out = subprocess.run(
        [sys.executable, "-m", "deploylog", "--deploy-config", str(config), "backup"], capture_output=True, text=True, cwd=ROOT
    )
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert [line.split()[0] for line in lines[:3]] == ["dump", "archive", "marker"]
    dump = next((tmp_path / "bk").glob("*.dump"))
    assert dump.is_dir()  # the default: pg_dump --format=directory
    manifest = (dump / "SHA256SUMS").read_bytes()
    total = sum(f.stat().st_size for f in dump.iterdir())
    assert hashlib.sha256(manifest).hexdigest() in lines[0] and f"({total} bytes)" in lines[0]
    assert "[directory format, " in lines[0] and "files, sha256 of its SHA256SUMS]" in lines[0]
    assert not list((tmp_path / "bk").glob("*.partial"))
    # stderr is no terminal here: plain lines, the plan first and the last line when pg_dump is done
    progress = out.stderr.splitlines()
    assert progress[0].startswith(f"pg_dump {DB}: directory format, ") and "; database " in progress[0]
    done = PROGRESS_DONE.match(progress[-1])
    assert done, progress
    data = backup.list_dump(make_spec(paths={"pg_bin_dir": str(pg.bin_dir)}), LOCAL, str(dump)).data
    assert int(done["done"]) == int(done["total"]) >= len(data) > 0  # every table pg_dump reported done
    assert "\r" not in out.stderr and "\x1b[" not in out.stderr
    bad = subprocess.run(
        [
            sys.executable,
            "-m",
            "deploylog",
            "--deploy-config",
            str(config),
            "backup",
            "--backup-dir",
            str(tmp_path / "bk2"),
            "--dsn",
            f"host=127.0.0.1 port={pg.port} dbname=no_such_db user=postgres",
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert bad.returncode == 2 and f"deploylog: error: pg_dump of {DB} failed" in bad.stderr
    assert "Traceback" not in bad.stderr
    assert not list((tmp_path / "bk2").iterdir())


def test_backup_command_on_a_terminal_redraws_one_progress_line(pg, odoo_dsn, module_checkout, tmp_path):
    import pty

    config = backup_config(tmp_path, pg, odoo_dsn, module_checkout)
    leader, follower = pty.openpty()
    try:
        cli = subprocess.Popen(
            [sys.executable, "-m", "deploylog", "--deploy-config", str(config), "backup"],
            stdout=subprocess.PIPE,
            stderr=follower,
            cwd=ROOT,
        )
        os.close(follower)
        shown = b""
        while True:
            try:
                block = os.read(leader, 65536)
            except OSError:  # EIO: the terminal's other side is closed
                break
            if not block:
                break
            shown += block
        assert cli.wait(60) == 0
    finally:
        os.close(leader)
    text = shown.decode()
    assert text.startswith(f"\rpg_dump {DB}: directory format, ")
    last = text.rstrip("\r\n").rsplit("\r", 1)[-1].replace("\x1b[K", "")
    assert PROGRESS_DONE.match(last), text  # the status line, redrawn in place, ends as the last line


def test_backup_in_the_custom_format_is_the_templates_single_file(pg, odoo_dsn, module_checkout, tmp_path):
    config = backup_config(tmp_path, pg, odoo_dsn, module_checkout, format="custom", compression="default")
    out = subprocess.run(
        [sys.executable, "-m", "deploylog", "--deploy-config", str(config), "backup"], capture_output=True, text=True, cwd=ROOT
    )
    assert out.returncode == 0, out.stderr
    dump = next((tmp_path / "bk").glob("*.dump"))
    assert dump.is_file() and sha256_file(dump) in out.stdout.splitlines()[0]
    assert "[custom format, compression pg_dump default (pg_dump's default, [backup] compression)]" in out.stdout
    spec = make_spec(database={"name": DB}, paths={"backup_dir": str(tmp_path / "bk"), "pg_bin_dir": str(pg.bin_dir)})
    r = backup.database_dump(spec, None, LOCAL)
    assert r.status == "PASS", r.message
    assert r.figures["format"] == "CUSTOM" and r.figures["compression"] == "gzip"


# ------------------------------------------------------------ 4.2-4.4 groups


@pytest.fixture
def conn(odoo_dsn):
    """The session's read-only snapshot (the guards' group lookup runs in it)."""
    snap = db.open_snapshot(make_spec(database={"name": "host_selftest_osus", "dsn": odoo_dsn}))
    yield snap
    snap.close()


def deployed(tmp_path, **kw):
    repo, _ = hr.build_repo(tmp_path)
    hr.deploy(repo, **kw)
    return make_spec(paths={"repo": str(repo)})


def check(spec, item, conn):
    return guards.check_guard(spec, spec.guard_for(item), conn, LOCAL)


def test_guards_of_the_deployed_module_pass_4_2_to_4_4(tmp_path, conn):
    spec = deployed(tmp_path)
    for item in ("4.2", "4.3", "4.4"):
        r = check(spec, item, conn)
        assert r.status == "PASS", (item, r.message)
        assert f"Code Location: {hr.MODULE}/models/" in r.evidence
    r = check(spec, "4.2", conn)
    assert "base.group_system: res.groups id 2" in r.evidence
    assert "payment_account_enhanced.group_payment_manager: res.groups id 16" in r.evidence


def test_guard_naming_a_group_that_does_not_exist_fails(tmp_path, conn):
    spec = deployed(tmp_path, admin_group="account.group_system")  # what the real module ships
    r = check(spec, "4.2", conn)
    assert r.status == "FAIL" and r.item == "4.2"
    assert "names group(s) that do not exist: account.group_system" in r.message
    assert "account.group_system: DOES NOT EXIST (did you mean base.group_system?)" in r.evidence
    first = r.figures["first_line"]
    assert r.message.startswith(f"{hr.MODULE}/models/account_payment.py:{first}-")


def test_removed_guard_fails(tmp_path, conn):
    spec = deployed(
        tmp_path,
        replace={f"{hr.MODULE}/models/account_payment.py": hr.PAYMENT_OLD, f"{hr.MODULE}/models/account_move.py": hr.MOVE_OLD},
    )
    r44 = check(spec, "4.4", conn)
    assert r44.status == "FAIL" and "NOT FOUND: method _is_payment_reconciled not found" in r44.message
    r42 = check(spec, "4.2", conn)
    assert r42.status == "FAIL" and "raises no UserError" in r42.message
    r43 = check(spec, "4.3", conn)
    assert r43.status == "FAIL" and "method button_draft not found in class AccountMove" in r43.message


def test_group_lookup_runs_read_only(conn):
    from deploylog import odoo

    assert conn.row("SHOW default_transaction_read_only")[0] == "on"
    found = odoo.groups(conn, ["base.group_system", "account.group_system", "nodot"])
    assert {x: g["id"] for x, g in found.values.items()} == {
        "base.group_system": 2,
        "account.group_system": None,
        "nodot": None,
    }


# ------------------------------------------------------- 1.1 deep: restore


def with_baseline(name, dsn, module_checkout, pg_bin_dir, tmp_path, **backup_section):
    """A spec for `name` whose phase-0 baseline is stored (what --verify-restore compares with)."""
    from deploylog import baseline as baseline_mod

    spec = make_spec(
        database={"name": name, "dsn": dsn},
        paths={
            "repo": str(module_checkout),
            "backup_dir": str(tmp_path / "bk"),
            "pg_bin_dir": str(pg_bin_dir),
            "baseline_dir": str(tmp_path / "baseline"),
        },
        backup=backup_section,
    )
    snap = db.Snapshot(db.connect(spec))
    try:
        baseline_mod.store(spec, snap, dt.datetime.now(dt.UTC))
    finally:
        snap.close()
    return spec


@pytest.mark.parametrize("dump_format", ["directory", "custom"])
def test_verify_restore_matches_the_baseline_and_catches_a_dump_missing_data(
    pg, odoo_db_factory, module_checkout, tmp_path, dump_format
):
    import io

    import psycopg

    from deploylog import baseline as baseline_mod
    from deploylog.hostchecks import restore

    dsn = odoo_db_factory("host_selftest_restore").dsn
    spec = with_baseline("host_selftest_restore", dsn, module_checkout, pg.bin_dir, tmp_path, format=dump_format, jobs=2)
    base = baseline_mod.load(spec)
    dump = take_backup.take_backups(spec)[0]
    assert dump.path.is_dir() == (dump_format == "directory")
    shown = io.StringIO()
    ok, text = restore.verify_against_baseline(spec, str(dump.path), base=base, progress=shown)
    assert ok, text
    assert "fingerprint payments" in text and "MISMATCH" not in text
    # pg_restore loads two tables at once, from either format
    assert f"Command: {pg.bin_dir / 'pg_restore'} --jobs=2 --no-owner " in text
    progress = shown.getvalue().splitlines()
    assert progress[0] == f"restore check {text.split()[2]}: pg_restore of {dump.path}, 2 jobs"
    assert re.match(
        rf"restore check {text.split()[2]}: \d+/\d+ tables loaded, 100% of ~[\d.]+ MB, [\d.]+ MB written, done in \d+:\d\d$",
        progress[-1],
    )
    r = backup.database_dump(spec, dt.datetime.now(dt.UTC) - HOUR, LOCAL, restore_check=restore.checker(spec, base, LOCAL))
    assert r.status == "PASS" and "(restored and counted)" in r.message
    # a payment deleted after the baseline: the new dump no longer holds the baseline's data
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("DELETE FROM account_move_line WHERE payment_id = (SELECT max(id) FROM account_payment)")
        conn.execute("DELETE FROM account_payment WHERE id = (SELECT max(id) FROM account_payment)")
    later = take_backup.take_backups(spec, when=dt.datetime.now(dt.UTC) + dt.timedelta(seconds=1))[0]
    ok, text = restore.verify_against_baseline(spec, str(later.path), base=base)
    assert not ok and "MISMATCH" in text
    r = backup.database_dump(spec, dt.datetime.now(dt.UTC) - HOUR, LOCAL, restore_check=restore.checker(spec, base, LOCAL))
    assert r.status == "FAIL" and "restored copy does not match the baseline counts" in r.message
    with psycopg.connect(pg.dsn("postgres")) as conn:  # no scratch database left behind
        assert not conn.execute("SELECT datname FROM pg_database WHERE datname LIKE '%deploylog_verify%'").fetchall()


def test_existing_backup_is_never_overwritten(taken):
    spec, _, files = taken
    when = dt.datetime.strptime(files[0].path.name.split("_PRE_DEPLOY_")[1][:15], "%Y%m%d_%H%M%S")
    with pytest.raises(take_backup.DeploylogError, match="already exists"):
        take_backup.take_backups(spec, when=when.replace(tzinfo=dt.UTC))


def test_phase_1_over_ssh_agrees_with_local(taken, taken_dir, tmp_path, tmp_path_factory):
    import testinfra

    from selftests.support.host_sshd import Sshd

    reason = Sshd.unavailable()
    if reason:
        pytest.skip(f"ssh backend not testable here: {reason}")
    sshd = Sshd(tmp_path_factory.mktemp("sshd")).start()
    try:
        remote = testinfra.get_host(sshd.hostspec, ssh_config=str(sshd.config))
        spec, phase0, target = fresh_copy(taken, tmp_path)
        for check in (backup.database_dump, backup.code_backup, backup.snapshot_marker):
            there, here = check(spec, phase0, remote), check(spec, phase0, LOCAL)
            assert there.status == here.status == "PASS", there.message
            assert there.figures.get("sha256") == here.figures.get("sha256")
            assert there.host == "ssh://127.0.0.1"
        archive = next(target.glob("*.tar.gz"))
        archive.write_bytes(archive.read_bytes()[:200])
        assert backup.code_backup(spec, phase0, remote).status == "FAIL"  # tar -tzf on the remote side
        # a directory dump: its files listed (find), hashed (sha256sum -z) and its manifest read on the remote side
        spec, phase0, target = fresh_copy(taken_dir, tmp_path / "directory")
        there, here = backup.database_dump(spec, phase0, remote), backup.database_dump(spec, phase0, LOCAL)
        assert there.status == here.status == "PASS", there.message
        assert there.evidence.replace("ssh://127.0.0.1", "local") == here.evidence
        victim = biggest_data_file(next(target.glob("*.dump")))
        victim.write_bytes(victim.read_bytes()[:-1] + b"X")
        there = backup.database_dump(spec, phase0, remote)
        assert there.status == "FAIL" and f"(sha256 differs from SHA256SUMS): {victim.name}" in there.message
    finally:
        sshd.stop()


# ------------------------------------------- deploylog backup: password, locks


PASSWORD = "s3cret:pass\\word with 'quotes'"  # ':' and '\' are what a passfile escapes


@pytest.fixture
def password_role(pg):
    """A role that must give its password (scram-sha-256) on loopback; the test cluster trusts everyone else."""
    role = "deploylog_pw_role"
    hba = pg.data_dir / "pg_hba.conf"
    original = hba.read_text()
    with psycopg.connect(pg.dsn("postgres"), autocommit=True) as conn:
        conn.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(role)))
        conn.execute("SET password_encryption = 'scram-sha-256'")
        conn.execute(sql.SQL("CREATE ROLE {} LOGIN SUPERUSER PASSWORD {}").format(sql.Identifier(role), sql.Literal(PASSWORD)))
        hba.write_text(f"host all {role} 127.0.0.1/32 scram-sha-256\n{original}")
        conn.execute("SELECT pg_reload_conf()")
    without = make_conninfo(pg.dsn(DB), user=role)
    for _ in range(100):  # the reload is asynchronous: wait until the role is refused without its password
        try:
            psycopg.connect(without).close()
        except psycopg.OperationalError:
            break
        time.sleep(0.05)
    else:
        pytest.fail("pg_hba.conf reload did not take effect")
    yield role
    hba.write_text(original)
    with psycopg.connect(pg.dsn("postgres"), autocommit=True) as conn:
        conn.execute("SELECT pg_reload_conf()")
        conn.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(role)))


@contextlib.contextmanager
def locked(dsn, table):
    """Another session holding ACCESS EXCLUSIVE on a table until the block ends."""
    conn = psycopg.connect(dsn)
    conn.execute(sql.SQL("LOCK TABLE {} IN ACCESS EXCLUSIVE MODE").format(sql.Identifier(table)))
    try:
        yield
    finally:
        conn.close()  # rolls back: the lock is released


def in_thread(call):
    """Run call() in a thread; returns (thread, outcome dict with 'value' or 'error')."""
    outcome = {}

    def target():
        try:
            outcome["value"] = call()
        except BaseException as exc:  # the test inspects it
            outcome["error"] = exc

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    return thread, outcome


def pg_dumps_into(directory):
    """Pids of the pg_dump processes (a leader and its workers) whose command line names directory."""
    found = []
    for proc in Path("/proc").iterdir():
        try:
            argv = (proc / "cmdline").read_bytes().split(b"\0")
            if argv[0].endswith(b"pg_dump") and any(str(directory).encode() in a for a in argv):
                found.append(int(proc.name))
        except (OSError, IndexError, ValueError):
            continue
    return found


def pg_dump_writing_into(directory, timeout=30.0):
    """(argv, environment) of the running pg_dump whose --file is in directory, read from /proc."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for proc in Path("/proc").iterdir():
            try:
                argv = (proc / "cmdline").read_bytes().split(b"\0")
                if argv[0].endswith(b"pg_dump") and any(str(directory).encode() in a for a in argv):
                    environ = dict(e.split(b"=", 1) for e in (proc / "environ").read_bytes().split(b"\0") if b"=" in e)
                    return [a.decode() for a in argv if a], {k.decode(): v.decode() for k, v in environ.items()}
            except (OSError, IndexError):
                continue
        time.sleep(0.02)
    raise AssertionError(f"no pg_dump writing into {directory} within {timeout}s")


def backup_spec(pg, module_checkout, backup_dir, dump_format="directory", **database):
    return make_spec(
        database={"name": DB, "dsn": pg.dsn(DB), **database},
        paths={"repo": str(module_checkout), "backup_dir": str(backup_dir), "pg_bin_dir": str(pg.bin_dir)},
        backup={"format": dump_format},
    )


def test_backup_password_never_on_pg_dumps_command_line(pg, odoo_dsn, password_role, module_checkout, tmp_path):
    bk = tmp_path / "bk"
    spec = backup_spec(pg, module_checkout, bk, lock_timeout_ms=60_000)
    no_password = make_conninfo(pg.dsn(DB), user=password_role)
    with pytest.raises(DeploylogError, match="no password supplied"):  # the role really needs it
        take_backup.take_backups(spec, dsn=no_password)
    assert not list(bk.iterdir())
    dsn = make_conninfo(no_password, password=PASSWORD)  # as `deploylog backup --dsn '... password=...'`
    with locked(odoo_dsn, "account_move"):  # holds pg_dump running while its /proc entry is read
        thread, outcome = in_thread(lambda: take_backup.take_backups(spec, dsn=dsn))
        argv, environ = pg_dump_writing_into(bk)
        assert not [a for a in argv if "s3cret" in a or "password=" in a], argv
        passfile = Path(environ["PGPASSFILE"])
        assert passfile.stat().st_mode & 0o777 == 0o600 and passfile.parent.stat().st_mode & 0o777 == 0o700
    thread.join(60)
    assert "PGPASSWORD" not in environ
    assert not passfile.parent.exists()  # removed afterwards
    assert "error" not in outcome, outcome
    dump = outcome["value"][0]
    assert backup.list_dump(spec, LOCAL, str(dump.path)).header.dbname == DB  # the dump succeeded as that role


@pytest.mark.parametrize("dump_format", ["directory", "custom"])
def test_backup_gives_up_on_a_locked_table_and_leaves_no_partial(pg, odoo_dsn, module_checkout, tmp_path, dump_format):
    bk = tmp_path / "bk"
    spec = backup_spec(pg, module_checkout, bk, dump_format, lock_timeout_ms=500)
    with locked(odoo_dsn, "account_move"):
        thread, outcome = in_thread(lambda: take_backup.take_backups(spec))
        thread.join(30)
        assert not thread.is_alive(), "pg_dump still waiting for the lock after 30 s"
    assert isinstance(outcome.get("error"), DeploylogError), outcome
    assert str(outcome["error"]) == (
        f"pg_dump of {DB} gave up: table public.account_move is locked by another session and stayed locked for "
        "[database] lock_timeout_ms = 500 ms; end that session or raise the setting"
    )
    assert list(bk.iterdir()) == []  # no .partial, no dump


@pytest.mark.parametrize("dump_format", ["directory", "custom"])
@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_interrupted_backup_leaves_no_partial(pg, odoo_dsn, module_checkout, tmp_path, stop, dump_format):
    config = tmp_path / "deploy.toml"
    raw = tomllib.loads((ROOT / "deploy.toml").read_text())
    raw["database"].update(name=DB, dsn=odoo_dsn, lock_timeout_ms=60_000)
    raw["backup"] = {"format": dump_format}
    raw["paths"].update(repo=str(module_checkout), backup_dir=str(tmp_path / "bk"), pg_bin_dir=str(pg.bin_dir))
    config.write_text(tomlwrite.dumps(raw))
    with locked(odoo_dsn, "account_move"):
        cli = subprocess.Popen([sys.executable, "-m", "deploylog", "--deploy-config", str(config), "backup"], cwd=ROOT)
        try:
            pg_dump_writing_into(tmp_path / "bk")
            deadline = time.monotonic() + 30
            while not list((tmp_path / "bk").glob("*.partial")) and time.monotonic() < deadline:
                time.sleep(0.02)
            assert list((tmp_path / "bk").glob("*.dump.partial"))  # pg_dump has begun writing
            cli.send_signal(stop)  # Ctrl-C, or a service manager's stop, while pg_dump waits for the lock
            assert cli.wait(30) == 130
            assert not pg_dumps_into(tmp_path / "bk")  # pg_dump stopped and waited for before its output was removed
        finally:
            cli.kill()
    assert list((tmp_path / "bk").iterdir()) == []


def test_verify_restore_keeps_the_password_off_pg_restores_command_line(pg, odoo_dsn, password_role, module_checkout, tmp_path):
    from deploylog.hostchecks import restore

    # pg_restore as a recording wrapper around the real one: what argv and environment it was given
    wrapped = tmp_path / "bin"
    wrapped.mkdir()
    record = tmp_path / "pg_restore.argv"
    (wrapped / "pg_restore").write_text(
        f'#!/bin/sh\nprintf "%s\\n" "$@" > {record}\necho "PGPASSFILE=$PGPASSFILE" >> {record}\nexec {pg.bin_dir}/pg_restore "$@"\n'
    )
    (wrapped / "pg_restore").chmod(0o755)
    (wrapped / "pg_dump").symlink_to(pg.bin_dir / "pg_dump")
    spec = with_baseline(DB, odoo_dsn, module_checkout, wrapped, tmp_path)
    dump = take_backup.take_backups(spec)[0]
    admin = make_conninfo(pg.dsn("postgres"), user=password_role, password=PASSWORD)
    ok, text = restore.verify_against_baseline(spec, str(dump.path), admin_dsn=admin)
    assert ok, text
    given = record.read_text()
    assert "s3cret" not in given and "password=" not in given and "s3cret" not in text
    passfile = Path(given.rsplit("PGPASSFILE=", 1)[1].strip())
    assert passfile.name == "pgpass" and not passfile.parent.exists()  # given through a passfile, removed afterwards
    assert "Password: password passed through a 0600 passfile (PGPASSFILE), not argv" in text
