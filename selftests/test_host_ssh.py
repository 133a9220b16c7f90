"""The host checks through testinfra's ssh backend, against a real sshd on 127.0.0.1.

The same files are read locally and over ssh: the verdicts must agree, and
each result names the host it ran on.
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess

import pytest
import testinfra

from deploylog import preflight
from deploylog.demo import module_repo as hr
from deploylog.demo import odoo_log as hl
from deploylog.demo.odoo_server import OdooServer
from deploylog.hostchecks import backup, code, hostio, logs, service
from selftests.support.host_spec import LOCAL, make_spec
from selftests.support.host_sshd import Sshd

T0 = dt.datetime(2025, 12, 22, 10, 0, tzinfo=dt.UTC)


@pytest.fixture(scope="module")
def sshd(tmp_path_factory):
    reason = Sshd.unavailable()
    if reason:
        pytest.skip(f"ssh backend not testable here: {reason}")
    server = Sshd(tmp_path_factory.mktemp("sshd")).start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def remote(sshd):
    return testinfra.get_host(sshd.hostspec, ssh_config=str(sshd.config))


def test_remote_backend_is_really_ssh(remote, sshd):
    assert remote.backend.NAME == "ssh" and not hostio.is_local(remote)
    assert hostio.host_name(remote) == "ssh://127.0.0.1"
    assert remote.run("echo $SSH_CONNECTION").stdout.split()[-1] == str(sshd.port)


def test_phase_2_over_ssh_agrees_with_local(remote, tmp_path):
    repo, before = hr.build_repo(tmp_path)
    hr.deploy(repo)
    spec = make_spec(paths={"repo": str(repo)})
    for check in (code.git_pull, code.changed_files, code.syntax):
        there, here = check(spec, before, remote), check(spec, before, LOCAL)
        assert there.status == here.status == "PASS", there.message
        assert there.host == "ssh://127.0.0.1" and here.host == "local"
    assert code.manifest_version(spec, remote).status == "PASS"
    hr.deploy(repo, extra={f"{hr.MODULE}/models/res_partner.py": "x = (\n"})
    assert code.changed_files(spec, before, remote).status == "FAIL"
    r = code.syntax(spec, before, remote)
    assert r.status == "FAIL" and f"{hr.MODULE}/models/res_partner.py:1:" in r.message


def test_log_read_backwards_over_ssh(remote, tmp_path, monkeypatch):
    path = tmp_path / "odoo-server.log"
    hl.write_log(
        path.with_name("odoo-server.log.1"),
        [*hl.requests(T0 - dt.timedelta(hours=1), 3), *hl.module_error(T0 + dt.timedelta(minutes=1))],
    )
    hl.write_log(path, [*hl.startup(T0 + dt.timedelta(minutes=5)), *hl.requests(T0 + dt.timedelta(minutes=6), 400)])
    monkeypatch.setattr(logs, "BLOCK", 4096)  # several dd round trips, not one
    spec = make_spec(paths={"log_file": str(path)})
    there = logs.scan_for(spec, T0, remote)
    here = logs.scan_for(spec, T0, LOCAL)
    assert [r.text() for r in there.errors] == [r.text() for r in here.errors] != []
    assert there.files == here.files == [str(path), f"{path}.1"]
    r = logs.error_details(spec, there, remote)
    assert r.status == "FAIL" and "KeyError: 'account.bank.reconciliation.line'" in r.evidence
    assert r.host == "ssh://127.0.0.1"


def test_service_over_ssh(remote, tmp_path):
    server = OdooServer(tmp_path / "odoo").start()
    try:
        for manager in ("pidfile", "process"):
            spec = make_spec(
                # the full path: other tests' stand-in servers run on this machine too
                service={
                    **server.service_config(),
                    "manager": manager,
                    "process_name": str(server.script),
                    "cache_dirs": [str(tmp_path / "gone")],
                },
                paths={"log_file": str(tmp_path / "odoo-server.log")},
            )
            state = service.read_state(spec, remote)
            assert state.running and state.pid == server.proc.pid, state
            local = service.read_state(spec, LOCAL)
            assert abs((state.started - local.started).total_seconds()) < 1e-6
            hl.healthy_log(tmp_path / "odoo-server.log", state.started - dt.timedelta(hours=1), state.started)
            r = service.healthy(spec, state, state.started - dt.timedelta(hours=1), remote)
            assert r.status == "PASS", r.message  # curl on the remote host
            assert service.caches_cleared(spec, remote).status == "PASS"
    finally:
        server.stop()


# ------------------------------------------------- a host that is not this machine


ELSEWHERE_TZ = "America/New_York"


@pytest.fixture(scope="module")
def elsewhere(tmp_path_factory):
    """An ssh host that differs from this machine: its own 1 MiB volume over a directory, and its own time zone."""
    reason = Sshd.unavailable() or Sshd.namespace_unavailable()
    if reason:
        pytest.skip(f"isolated ssh host not testable here: {reason}")
    root = tmp_path_factory.mktemp("elsewhere")
    server = Sshd(root / "sshd", volume=root / "volume", env={"TZ": ELSEWHERE_TZ}).start()
    host = testinfra.get_host(server.hostspec, ssh_config=str(server.config))
    yield host, root / "volume"
    server.stop()


def test_p4_measures_free_space_on_the_host_it_runs_for(elsewhere):
    host, volume = elsewhere
    assert host.run("df -P -B1 %s", str(volume)).stdout.split()[-1] == str(volume)  # a mount there, not here
    spec = make_spec(paths={"backup_dir": str(volume / "backups"), "repo": "", "log_file": ""}, thresholds={"min_free_disk_gb": 0.5})
    there = preflight.disk_space(spec, host)
    assert there.status == "FAIL" and there.item == "P.4" and there.host == "ssh://127.0.0.1"
    assert there.message == f"{volume / 'backups'} has 0.0 GB free (expected > 0.5 GB)"
    assert f"{volume / 'backups'}: 0.0 GB free of 0.0 GB (on {volume})" in there.evidence
    assert there.queries == (f"df -P -B1 {volume}",)
    here = preflight.disk_space(spec, LOCAL)  # this machine's disk under the same path: plenty
    assert here.status == "PASS" and here.host == "local", here.message


def test_dump_time_is_read_in_the_time_zone_of_the_host_that_made_it(elsewhere, pg_cluster, odoo_db, tmp_path, monkeypatch):
    host, _ = elsewhere
    assert host.run("date +%Z").stdout.strip() in ("EST", "EDT")
    backups = tmp_path / "backups"
    backups.mkdir()
    dump = backups / f"{odoo_db.name}_PRE_DEPLOY_{backup.stamp()}.dump"
    # pg_dump as run on that host: its header keeps New York wall-clock time
    subprocess.run(
        [str(pg_cluster.bin_dir / "pg_dump"), "--format=custom", f"--file={dump}", odoo_db.dsn],
        check=True,
        env={**os.environ, "TZ": ELSEWHERE_TZ},
    )
    spec = make_spec(
        database={"name": odoo_db.name, "dsn": odoo_db.dsn},
        paths={"backup_dir": str(backups), "pg_bin_dir": str(pg_cluster.bin_dir)},
    )
    phase0 = dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)
    there = backup.database_dump(spec, phase0, host)
    assert there.status == "PASS", there.message
    created = dt.datetime.fromisoformat(there.figures["created_utc"])
    assert abs(created - dt.datetime.now(dt.UTC)) < dt.timedelta(minutes=2)
    assert there.figures["created_at"].endswith((" EST", " EDT"))
    # the same header read on a host in UTC means five hours earlier: the conversion must happen where the dump was made
    monkeypatch.setenv("TZ", "UTC")
    here = backup.database_dump(spec, phase0, LOCAL)
    assert here.status == "FAIL" and here.message.startswith("FAILED: dump header says it was created at "), here.message
