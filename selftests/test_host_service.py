"""Phase 3 (3.1-3.4) against a real HTTP server process standing in for Odoo (pidfile and process managers)."""

from __future__ import annotations

import datetime as dt
import os
import shutil

import pytest

from deploylog.demo import odoo_log as hl
from deploylog.demo.odoo_server import OdooServer
from deploylog.hostchecks import service
from selftests.support.host_spec import LOCAL, make_spec

HOUR = dt.timedelta(hours=1)


@pytest.fixture
def odoo(tmp_path):
    server = OdooServer(tmp_path / "odoo").start()
    yield server
    server.stop()


def spec_for(server, tmp_path, **service_overrides):
    log = tmp_path / "odoo-server.log"
    cfg = {**server.service_config(), "cache_dirs": [str(tmp_path / "cache" / ".cache"), str(tmp_path / "empty")], **service_overrides}
    return make_spec(service=cfg, paths={"log_file": str(log)})


def started_of(spec):
    state = service.read_state(spec, LOCAL)
    assert state.running and state.started, state
    return state


def test_restarted_service_passes_3_1_to_3_4(odoo, tmp_path):
    spec = spec_for(odoo, tmp_path)
    (tmp_path / "empty").mkdir()
    state = started_of(spec)
    phase0 = state.started - HOUR
    hl.healthy_log(tmp_path / "odoo-server.log", phase0, state.started)
    results = [
        service.stopped(spec, state, phase0, LOCAL),
        service.caches_cleared(spec, LOCAL),
        service.started(spec, state, LOCAL),
        service.healthy(spec, state, phase0, LOCAL),
    ]
    assert [r.status for r in results] == ["PASS"] * 4, [r.message for r in results]
    assert state.pid == odoo.proc.pid
    assert f"GET {odoo.health_url} -> 200" in results[3].evidence
    assert "/web/login -> 200" in results[3].evidence
    assert "Last 20 log lines:" in results[3].evidence


def test_service_not_restarted_after_phase_0_fails_3_1(odoo, tmp_path):
    spec = spec_for(odoo, tmp_path)
    state = started_of(spec)
    r = service.stopped(spec, state, state.started + HOUR, LOCAL)  # phase 0 began after the process started
    assert r.status == "FAIL" and r.item == "3.1"
    assert "service not restarted" in r.message and "before phase 0" in r.message


def test_process_manager_finds_the_master_by_name(odoo, tmp_path):
    # the full path: other tests' stand-in servers run on this machine too
    spec = spec_for(odoo, tmp_path, manager="process", pidfile="", process_name=str(odoo.script))
    state = service.read_state(spec, LOCAL)
    assert state.running and state.pid == odoo.proc.pid
    assert service.started(spec, state, LOCAL).status == "PASS"
    missing = spec_for(odoo, tmp_path, manager="process", process_name="odoo-bin-nowhere")
    r = service.started(missing, service.read_state(missing, LOCAL), LOCAL)
    assert r.status == "FAIL" and "FAILED TO START" in r.message


def test_two_instances_of_the_same_name_are_an_error_not_a_guess(odoo, tmp_path):
    other = OdooServer(tmp_path / "other").start()
    try:
        spec = spec_for(odoo, tmp_path, manager="process", pidfile="", process_name="odoo-bin")
        state = service.read_state(spec, LOCAL)
        assert not state.running
        assert f"{odoo.proc.pid}" in state.error and f"{other.proc.pid}" in state.error
        r = service.started(spec, state, LOCAL)
        assert r.status == "FAIL" and "process_name to this instance's full path" in r.message
    finally:
        other.stop()


def test_stopped_service_fails_3_3_and_3_4(odoo, tmp_path):
    spec = spec_for(odoo, tmp_path)
    odoo.stop()  # pidfile left behind, pointing at a dead pid
    state = service.read_state(spec, LOCAL)
    assert not state.running and "stale pidfile" in state.status
    assert service.started(spec, state, LOCAL).status == "FAIL"
    r = service.healthy(spec, state, dt.datetime.now(dt.UTC) - HOUR, LOCAL)
    assert r.status == "FAIL" and "service is not running" in r.message


def test_pid_reused_by_another_program_is_not_the_service(odoo, tmp_path):
    spec = spec_for(odoo, tmp_path)
    odoo.pidfile.write_text(f"{os.getpid()}\n")  # this pytest process, not odoo-bin
    state = service.read_state(spec, LOCAL)
    assert not state.running and "not odoo-bin" in state.status


def test_unhealthy_answer_fails_3_4(tmp_path):
    server = OdooServer(tmp_path / "odoo", health_status=503).start()
    try:
        spec = spec_for(server, tmp_path)
        state = started_of(spec)
        hl.healthy_log(tmp_path / "odoo-server.log", state.started - HOUR, state.started)
        r = service.healthy(spec, state, state.started - HOUR, LOCAL)
        assert r.status == "FAIL" and "/web/health answered 503" in r.message
    finally:
        server.stop()


def test_module_error_after_restart_fails_3_4_but_one_before_does_not(odoo, tmp_path):
    spec = spec_for(odoo, tmp_path)
    state = started_of(spec)
    phase0 = state.started - HOUR
    log = hl.healthy_log(tmp_path / "odoo-server.log", phase0, state.started)
    hl.write_log(log, hl.module_error(state.started - dt.timedelta(minutes=5)), mode="a")  # old instance
    assert service.healthy(spec, state, phase0, LOCAL).status == "PASS"
    hl.write_log(log, hl.module_error(state.started + dt.timedelta(seconds=30)), mode="a")
    r = service.healthy(spec, state, phase0, LOCAL)
    assert r.status == "FAIL" and "payment_account_enhanced in the log since the restart" in r.message
    assert "Exception during request handling" in r.evidence


def test_cache_dir_left_behind_fails_3_2(tmp_path):
    cache = tmp_path / "lib" / ".cache"
    (cache / "odoo" / "assets").mkdir(parents=True)
    (cache / "odoo" / "assets" / "web.assets_backend.js").write_text("x")
    spec = make_spec(service={"cache_dirs": [str(cache), str(tmp_path / "lib" / ".local")]})
    r = service.caches_cleared(spec, LOCAL)
    assert r.status == "FAIL" and str(cache) in r.message and "LEFT BEHIND (odoo)" in r.evidence
    shutil.rmtree(cache)
    r = service.caches_cleared(spec, LOCAL)
    assert r.status == "PASS" and f"{cache}: gone" in r.evidence


def test_systemd_without_systemd_as_pid_1_is_a_clear_failure():
    spec = make_spec(service={"manager": "systemd", "name": "odoo.service"})
    state = service.read_state(spec, LOCAL)
    if shutil.which("systemctl") is None:
        assert "systemctl" in state.error or state.error
    r = service.started(spec, state, LOCAL)
    if state.error:  # this container: no systemd as PID 1
        assert r.status == "FAIL" and "cannot read the service state: systemctl show odoo.service" in r.message
    else:  # a host with systemd but no odoo.service
        assert r.status == "FAIL"


def test_systemd_show_output_is_parsed():
    text = (
        "ActiveState=active\nSubState=running\nMainPID=4242\nActiveEnterTimestamp=@1766398503\n"
        "InactiveEnterTimestamp=@1766398490\nExecMainStartTimestamp=@1766398502.5\n"
    )
    props = service.parse_systemd_show(text)
    assert props["MainPID"] == "4242"
    assert service.parse_systemd_time(props["ExecMainStartTimestamp"]) == dt.datetime(2025, 12, 22, 10, 15, 2, 500000, tzinfo=dt.UTC)
    assert service.parse_systemd_time("Mon 2025-12-22 10:15:03 UTC") == dt.datetime(2025, 12, 22, 10, 15, 3, tzinfo=dt.UTC)
    assert service.parse_systemd_time("n/a") is None


def test_proc_start_time_parsing_survives_odd_process_names():
    proc_stat = "cpu 1 2 3\nbtime 1766390000\nprocesses 10\n"
    pid_stat = "4242 (odoo) worker (x)) S 1 4242 4242 0 -1 4194560 " + " ".join(["0"] * 12) + " 123456 0 0"
    assert service.parse_proc_start(proc_stat, pid_stat, 100) == dt.datetime.fromtimestamp(1766390000 + 1234.56, dt.UTC)


def test_manager_none_is_not_applicable():
    spec = make_spec(service={"manager": "none"})
    state = service.read_state(spec, LOCAL)
    assert service.started(spec, state, LOCAL).status == "NA"
    assert service.stopped(spec, state, None, LOCAL).status == "NA"
