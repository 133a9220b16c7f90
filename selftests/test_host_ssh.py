"""The host checks through testinfra's ssh backend, against a real sshd on 127.0.0.1.

The same files are read locally and over ssh: the verdicts must agree, and
each result names the host it ran on.
"""

from __future__ import annotations

import datetime as dt

import pytest
import testinfra

from deploylog.demo import module_repo as hr
from deploylog.demo import odoo_log as hl
from deploylog.demo.odoo_server import OdooServer
from deploylog.hostchecks import code, hostio, logs, service
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
                service={**server.service_config(), "manager": manager, "cache_dirs": [str(tmp_path / "gone")]},
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
