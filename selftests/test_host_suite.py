"""The real log suite (pytest subprocess, junit outcomes) on a whole deployment: the host items
PASS on a healthy one, and each injected fault FAILs its own item with a message naming it."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from deploylog.demo import module_repo as hr
from deploylog.demo import odoo_log as hl
from selftests.support.host_scenario import HOST_ITEMS, Scenario, wait_past
from selftests.support.host_sshd import Sshd


@pytest.fixture
def scenario(deployment, pg_cluster):
    s = Scenario(deployment, pg_cluster.bin_dir)
    yield s
    s.server.stop()


def test_healthy_deployment_passes_every_host_item(scenario):
    scenario.phase0()
    scenario.backups()
    hr.deploy(scenario.repo)
    restart = scenario.restart()
    scenario.write_log(restart)
    run = scenario.run_host_items()
    statuses = {item: run.status(item) for item in HOST_ITEMS.split(",")}
    assert set(statuses.values()) == {"PASS"}, (statuses, run.output[-4000:])
    log = run.log()["items"]
    assert "only 'version' changed" in log["2.2"]["evidence"]
    assert "base.group_system: res.groups id" in log["4.2"]["evidence"]


def test_each_fault_fails_its_own_item(scenario, pg_cluster):
    scenario.server.start()  # running since before phase 0: never restarted
    scenario.phase0()
    dump = scenario.backups()[0].path  # a directory dump (the default): its largest table's data cut short
    data = max((f for f in dump.iterdir() if re.match(r"\d+\.dat", f.name)), key=lambda f: f.stat().st_size)
    data.write_bytes(data.read_bytes()[: data.stat().st_size // 2])
    hr.deploy(
        scenario.repo,
        bump=False,  # version not bumped
        admin_group="account.group_system",  # the real module's non-existent group
        replace={
            f"{hr.MODULE}/models/account_move.py": hr.MOVE_OLD,  # button_draft guard removed
            f"{hr.MODULE}/views/account_payment_views.xml": hr.VIEWS_NEW.replace("</odoo>", "</odo>"),
        },
        extra={f"{hr.MODULE}/models/res_partner.py": "def broken(:\n"},  # a 4th file, not compiling
    )
    (scenario.cache / "assets").mkdir(parents=True)  # cache left behind
    (scenario.cache / "assets" / "web.assets.js").write_text("stale")
    assert scenario.started_at is not None
    wait_past(scenario.started_at)
    scenario.write_log(scenario.started_at - dt.timedelta(hours=1))
    hl.write_log(scenario.log, hl.module_error(dt.datetime.now(dt.UTC)), mode="a")  # module error after restart
    run = scenario.run_host_items()
    expected_fail = {
        "1.1": "dump is incomplete (truncated?)",
        "2.2": f"UNEXPECTED CHANGES - unexpected: {hr.MODULE}/models/res_partner.py",
        "2.3": f"{hr.MODULE}/models/res_partner.py:1:",
        "2.4": "WRONG VERSION",
        "3.1": "service not restarted",
        "3.2": str(scenario.cache),
        "3.4": "payment_account_enhanced in the log since the restart",
        "4.2": "names group(s) that do not exist: account.group_system",
        "4.3": "method button_draft not found in class AccountMove",
        # 4.4's predicate is enforced in write(), whose manager override names the same bad group
        "4.4": "names group(s) that do not exist: account.group_system",
        "6.1": "ERRORS PRESENT: 1",
        "6.2": "MODULE ERRORS: 1",
        "6.3": "1 error record(s), 1 with traceback",
    }
    for item, needle in expected_fail.items():
        assert run.status(item) == "FAIL", (item, run.status(item), run.message(item))
        assert needle in run.message(item), (item, run.message(item))
    assert f"{hr.MODULE}/views/account_payment_views.xml:" in run.message("2.3")
    for item in ("1.2", "1.3", "2.1", "3.3"):
        assert run.status(item) == "PASS", (item, run.message(item))
    assert run.returncode == 1


def test_restore_check_of_1_1_restores_in_parallel_and_shows_progress_outside_the_log(scenario):
    scenario.d.configure(database={"verify_restore": True}, backup={"jobs": 2})
    scenario.phase0()
    dump = scenario.backups()[0].path
    run = scenario.d.run("--items", "1.1")
    assert run.status("1.1") == "PASS", run.output[-3000:]
    entry = run.log()["items"]["1.1"]
    assert "(restored and counted)" in entry["message"], entry
    evidence = entry["evidence"]
    assert "pg_restore --jobs=2 --no-owner" in evidence and "MISMATCH" not in evidence
    # the progress reached the terminal (here: the run's stderr) past pytest's capture, and no file of the log
    scratch = re.search(r"Scratch database: (\S+)", evidence).group(1)
    assert f"restore check {scratch}: pg_restore of {dump}, 2 jobs" in run.output
    assert re.search(rf"restore check {scratch}: \d+/\d+ tables loaded, .*done in \d+:\d\d", run.output)
    for path in scenario.d.report_dir.rglob("*"):
        if path.is_file():
            assert "tables loaded" not in path.read_text(errors="replace"), path


def test_backups_older_than_phase_0_fail_phase_1(scenario):
    scenario.backups()  # taken last week, so to speak: before this deployment's phase 0
    wait_past(dt.datetime.now(dt.UTC) + dt.timedelta(seconds=0.05))
    scenario.phase0()
    run = scenario.d.run("--items", "1.1,1.2,1.3")
    for item in ("1.1", "1.2", "1.3"):
        assert run.status(item) == "FAIL" and "before phase 0 started" in run.message(item), run.message(item)


def test_no_baseline_fails_with_the_command_that_creates_it(scenario):
    run = scenario.d.run("--items", "2.1,6.1")
    assert run.status("2.1") in {"FAIL", "ERROR"} and "pytest -m phase0" in run.message("2.1")


def test_host_items_run_once_per_host_over_ssh(scenario, tmp_path_factory):
    reason = Sshd.unavailable()
    if reason:
        pytest.skip(f"ssh backend not testable here: {reason}")
    sshd = Sshd(tmp_path_factory.mktemp("sshd")).start()
    try:
        hosts = (f"--hosts=local://,{sshd.hostspec}", f"--ssh-config={sshd.config}")
        scenario.phase0(*hosts)  # the baseline records the HEAD before of every host
        hr.deploy(scenario.repo)
        restart = scenario.restart()
        scenario.write_log(restart)
        items = "2.1,2.2,2.3,2.4,3.3,6.1"
        run = scenario.d.run("--items", items, *hosts)
        for item in items.split(","):
            assert [s for s, _ in run.outcomes[item]] == ["PASS", "PASS"], (item, run.message(item))
        entries = run.log()["items"]["2.1"]
        assert "ssh://127.0.0.1" in str(entries) and "local" in str(entries)
        # a fault on the shared checkout fails on both hosts
        hr.deploy(scenario.repo, extra={f"{hr.MODULE}/models/res_partner.py": "x = 1\n"})
        run = scenario.d.run("--items", "2.2", f"--hosts=local://,{sshd.hostspec}", f"--ssh-config={sshd.config}")
        assert [s for s, _ in run.outcomes["2.2"]] == ["FAIL", "FAIL"]
    finally:
        sshd.stop()
