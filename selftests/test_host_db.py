"""Phase 1 backups (real pg_dump / pg_restore) and 4.2-4.4 group resolution against a real PostgreSQL."""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
import subprocess
import sys
import tarfile
import tomllib

import pytest

from deploylog import db, tomlwrite
from deploylog.demo import module_repo as hr
from deploylog.files import sha256_file
from deploylog.hostchecks import backup, guards, take_backup
from selftests.support.host_pg import cluster_for, odoo_database
from selftests.support.host_spec import ROOT, make_spec

DB = "osusproperties"
HOUR = dt.timedelta(hours=1)


@pytest.fixture(scope="module")
def pg(request):
    found, stop = cluster_for(request)
    yield found
    if stop:
        stop()


@pytest.fixture(scope="module")
def odoo_dsn(pg):
    return odoo_database(pg, "host_selftest_osus")


@pytest.fixture(scope="module")
def module_checkout(tmp_path_factory):
    repo, _ = hr.build_repo(tmp_path_factory.mktemp("code"))
    return repo


def spec_for(pg, dsn, repo, backup_dir, **more):
    return make_spec(
        database={"name": DB, "dsn": dsn},
        paths={"repo": str(repo), "backup_dir": str(backup_dir), "pg_bin_dir": str(pg.bin_dir)},
        **more,
    )


@pytest.fixture(scope="module")
def taken(pg, odoo_dsn, module_checkout, tmp_path_factory):
    """One real set of backups (dump, archive, marker) taken with the command's own code."""
    backup_dir = tmp_path_factory.mktemp("backups")
    spec = spec_for(pg, odoo_dsn, module_checkout, backup_dir)
    phase0 = dt.datetime.now(dt.UTC) - HOUR
    files = take_backup.take_backups(spec)
    return spec, phase0, files


def fresh_copy(taken, tmp_path):
    """A private copy of the backup dir (with mtimes) so a test can damage it."""
    spec, phase0, files = taken
    target = tmp_path / "backups"
    target.mkdir()
    for f in files:
        copy = target / f.path.name
        copy.write_bytes(f.path.read_bytes())
        st = f.path.stat()
        os.utime(copy, ns=(st.st_atime_ns, st.st_mtime_ns))
    return (
        make_spec(database=dataclasses.asdict(spec.database), paths={**dataclasses.asdict(spec.paths), "backup_dir": str(target)}),
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
    r11 = backup.database_dump(spec, phase0)
    assert r11.status == "PASS", r11.message
    assert files[0].sha256 in r11.evidence
    for table in ("account_payment", "account_move", "account_move_line", "account_bank_reconciliation_line"):
        assert f"TABLE DATA {table}: present" in r11.evidence
    r12 = backup.code_backup(spec, phase0)
    assert r12.status == "PASS", r12.message
    assert f"{hr.MODULE}/__manifest__.py: present, version {hr.OLD_VERSION}" in r12.evidence
    r13 = backup.snapshot_marker(spec, phase0)
    assert r13.status == "PASS", r13.message
    assert f"sha256={files[0].sha256}" in r13.evidence and f"sha256={files[1].sha256}" in r13.evidence


def test_dump_older_than_phase_0_fails_1_1(taken, tmp_path):
    spec, _phase0, _ = fresh_copy(taken, tmp_path)
    r = backup.database_dump(spec, dt.datetime.now(dt.UTC) + HOUR)  # phase 0 began after the dump was written
    assert r.status == "FAIL" and r.item == "1.1"
    assert "before phase 0 started" in r.message and "not this deployment's backup" in r.message


def test_truncated_dump_fails_1_1_although_its_listing_still_reads(taken, tmp_path):
    spec, phase0, target = fresh_copy(taken, tmp_path)
    dump = next(target.glob("*.dump"))
    data = dump.read_bytes()
    dump.write_bytes(data[: len(data) // 2])
    listing = backup.list_dump(spec, backup.hostio.local_host(), str(dump))
    assert listing.ok  # pg_restore --list only reads the table of contents...
    r = backup.database_dump(spec, phase0)
    assert r.status == "FAIL" and "dump is incomplete (truncated?)" in r.message  # ...the full read does not


def test_dump_without_table_data_fails_1_1(pg, odoo_dsn, taken, tmp_path):
    spec, phase0, target = fresh_copy(taken, tmp_path)
    dump = next(target.glob("*.dump"))
    subprocess.run([str(pg.bin_dir / "pg_dump"), "--format=custom", "--schema-only", f"--file={dump}", odoo_dsn], check=True)
    r = backup.database_dump(spec, phase0)
    assert r.status == "FAIL" and "no TABLE DATA for account_payment, account_move, account_move_line" in r.message


def test_garbage_and_missing_dump_fail_1_1(taken, tmp_path):
    spec, phase0, target = fresh_copy(taken, tmp_path)
    dump = next(target.glob("*.dump"))
    dump.write_bytes(b"not a dump\n")
    r = backup.database_dump(spec, phase0)
    assert r.status == "FAIL" and "pg_restore --list cannot read it" in r.message
    dump.unlink()
    r = backup.database_dump(spec, phase0)
    assert r.status == "FAIL" and f"no {DB}_PRE_DEPLOY_*.dump in {target}" in r.message


def test_truncated_archive_fails_1_2(taken, tmp_path):
    spec, phase0, target = fresh_copy(taken, tmp_path)
    archive = next(target.glob("*.tar.gz"))
    data = archive.read_bytes()
    archive.write_bytes(data[: len(data) // 2])
    r = backup.code_backup(spec, phase0)
    assert r.status == "FAIL" and "archive is not readable" in r.message


def test_archive_without_manifest_or_of_the_new_code_fails_1_2(taken, tmp_path, module_checkout):
    spec, phase0, target = fresh_copy(taken, tmp_path)
    archive = next(target.glob("*.tar.gz"))
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(module_checkout / hr.MODULE / "models", arcname=f"{hr.MODULE}/models")
    r = backup.code_backup(spec, phase0)
    assert r.status == "FAIL" and f"does not hold {hr.MODULE}/__manifest__.py" in r.message
    new_code = tmp_path / "new" / hr.MODULE
    new_code.mkdir(parents=True)
    (new_code / "__manifest__.py").write_text(hr.MANIFEST.format(version=hr.NEW_VERSION))
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(new_code, arcname=hr.MODULE)
    r = backup.code_backup(spec, phase0)
    assert r.status == "FAIL" and "cannot roll back" in r.message


def test_stale_or_missing_marker_fails_1_3(taken, tmp_path):
    spec, _, target = fresh_copy(taken, tmp_path)
    r = backup.snapshot_marker(spec, dt.datetime.now(dt.UTC) + HOUR)
    assert r.status == "FAIL" and "stale marker" in r.message
    next(target.glob("DEPLOYMENT_SNAPSHOT_*")).unlink()
    r = backup.snapshot_marker(spec, None)
    assert r.status == "FAIL" and "no DEPLOYMENT_SNAPSHOT_*" in r.message


def test_backup_command_prints_sizes_and_digests(pg, odoo_dsn, module_checkout, tmp_path):
    config = tmp_path / "deploy.toml"
    raw = tomllib.loads((ROOT / "deploy.toml").read_text())
    raw["database"]["dsn"] = odoo_dsn
    raw["paths"].update(
        repo=str(module_checkout), backup_dir=str(tmp_path / "bk"), pg_bin_dir=str(pg.bin_dir), baseline_dir=str(tmp_path / "baseline")
    )
    config.write_text(tomlwrite.dumps(raw))
    out = subprocess.run(
        [sys.executable, "-m", "deploylog", "--deploy-config", str(config), "backup"], capture_output=True, text=True, cwd=ROOT
    )
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert [line.split()[0] for line in lines[:3]] == ["dump", "archive", "marker"]
    dump = next((tmp_path / "bk").glob("*.dump"))
    assert sha256_file(dump) in lines[0] and str(dump.stat().st_size) in lines[0]
    assert not list((tmp_path / "bk").glob("*.partial"))
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
    assert bad.returncode == 2 and bad.stderr.startswith("deploylog: error: pg_dump of osusproperties failed")
    assert "Traceback" not in bad.stderr


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
    return guards.check_guard(spec, spec.guard_for(item), conn)


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


def test_verify_restore_matches_the_baseline_and_catches_a_dump_missing_data(pg, module_checkout, tmp_path):
    import psycopg

    from deploylog import baseline as baseline_mod
    from deploylog.hostchecks import restore

    dsn = odoo_database(pg, "host_selftest_restore")
    spec = make_spec(
        database={"name": "host_selftest_restore", "dsn": dsn},
        paths={
            "repo": str(module_checkout),
            "backup_dir": str(tmp_path / "bk"),
            "pg_bin_dir": str(pg.bin_dir),
            "baseline_dir": str(tmp_path / "baseline"),
        },
    )
    snap = db.Snapshot(db.connect(spec))
    try:
        baseline_mod.store(spec, snap, dt.datetime.now(dt.UTC))
    finally:
        snap.close()
    base = baseline_mod.load(spec)
    dump = take_backup.take_backups(spec)[0]
    ok, text = restore.verify_against_baseline(spec, str(dump.path), base=base)
    assert ok, text
    assert "fingerprint payments" in text and "MISMATCH" not in text
    r = backup.database_dump(spec, dt.datetime.now(dt.UTC) - HOUR, restore_check=restore.checker(spec, base))
    assert r.status == "PASS" and "(restored and counted)" in r.message
    # a payment deleted after the baseline: the new dump no longer holds the baseline's data
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("DELETE FROM account_move_line WHERE payment_id = (SELECT max(id) FROM account_payment)")
        conn.execute("DELETE FROM account_payment WHERE id = (SELECT max(id) FROM account_payment)")
    later = take_backup.take_backups(spec, when=dt.datetime.now(dt.UTC) + dt.timedelta(seconds=1))[0]
    ok, text = restore.verify_against_baseline(spec, str(later.path), base=base)
    assert not ok and "MISMATCH" in text
    r = backup.database_dump(spec, dt.datetime.now(dt.UTC) - HOUR, restore_check=restore.checker(spec, base))
    assert r.status == "FAIL" and "restored copy does not match the baseline counts" in r.message
    with psycopg.connect(pg.dsn("postgres")) as conn:  # no scratch database left behind
        assert not conn.execute("SELECT datname FROM pg_database WHERE datname LIKE '%deploylog_verify%'").fetchall()


def test_existing_backup_is_never_overwritten(taken):
    spec, _, files = taken
    when = dt.datetime.strptime(files[0].path.name.split("_PRE_DEPLOY_")[1][:15], "%Y%m%d_%H%M%S")
    with pytest.raises(take_backup.DeploylogError, match="already exists"):
        take_backup.take_backups(spec, when=when.replace(tzinfo=dt.UTC))


def test_phase_1_over_ssh_agrees_with_local(taken, tmp_path, tmp_path_factory):
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
            there, here = check(spec, phase0, remote), check(spec, phase0)
            assert there.status == here.status == "PASS", there.message
            assert there.figures.get("sha256") == here.figures.get("sha256")
            assert there.host == "ssh://127.0.0.1"
        archive = next(target.glob("*.tar.gz"))
        archive.write_bytes(archive.read_bytes()[:200])
        assert backup.code_backup(spec, phase0, remote).status == "FAIL"  # tar -tzf on the remote side
    finally:
        sshd.stop()
