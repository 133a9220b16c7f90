"""The reporter driven for real: pytest runs small log tests (no database) and
the execution log, JUnit XML, pytest-html and pytest-json-report carry the items."""

from __future__ import annotations

import base64
import json
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path
from xml.etree import ElementTree

import pytest

from deploylog import spec as spec_mod
from deploylog.log import actions, state
from deploylog.pytest_plugin import reporter
from selftests.support import log_pytester as lp
from selftests.support import log_scenarios as sc

pytest_plugins = ["pytester"]

REPO = Path(__file__).resolve().parents[1]


def run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    quiet = ("-W", "ignore::pytest.PytestAssertRewriteWarning")  # deploylog is imported by the outer session
    return pytester.runpytest_inprocess("-p", "no:cacheprovider", *quiet, *args)


def all_report_text(pytester: pytest.Pytester) -> str:
    paths = [p for p in pytester.path.rglob("*") if p.suffix in (".json", ".md", ".html", ".xml")]
    return "".join(p.read_text(encoding="utf-8") for p in paths)


def test_every_outcome_lands_in_the_log(pytester):
    lp.setup(pytester)
    lp.phase0(pytester, status_02="FAIL", orphans=3)
    result = run(pytester, "-m", "phase0")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    doc = lp.log_json(pytester)
    items = doc["items"]
    assert items["0.1"]["status"] == "PASS"
    assert "posted_payments | 150" in items["0.1"]["evidence"]
    assert items["0.1"]["queries"] == ["SELECT count(*) FROM account_payment"]
    assert items["0.2"]["status"] == "FAIL" and items["0.2"]["message"] == "orphaned = 3"
    assert items["0.3"]["status"] == "NA" and "reconciliation table absent" in items["0.3"]["message"]
    assert items["0.4"]["status"] == "FAIL" and items["0.4"]["detail_status"] == "ERROR"
    assert "could not connect to server" in items["0.4"]["message"]
    assert items["1.1"]["status"] == "SKIP" and items["7.1"]["status"] == "MANUAL"
    assert doc["overall"] == "CRITICAL FAILURE"
    assert len(doc["runs"]) == 1 and doc["runs"][0]["counts"] == {"PASS": 1, "FAIL": 1, "NA": 1, "ERROR": 1}
    assert result.outlines[-1].startswith("deploylog: NO-GO — ABORT & ROLLBACK: phase 0 failed")
    assert lp.SECRET not in all_report_text(pytester)
    assert lp.SECRET not in result.stdout.str()  # the failure text on the console is masked too
    # the header is the deployment record the state holds, redacted when it was stored
    recorded = state.load(lp.state_file(pytester))["deployment"]
    assert recorded["dsn"] == doc["deployment"]["dsn"] == "host=db.example dbname=osusproperties user=odoo password=***"
    md = (lp.reports(pytester) / "execution-log.md").read_text()
    assert "**Phase 0 Result**: ☐ ALL PASS → Proceed ☑ FAIL → ABORT & ROLLBACK" in md


def test_runs_add_to_one_log_and_a_rerun_keeps_the_failed_attempt(pytester):
    lp.setup(pytester)
    lp.phase0(pytester, status_02="FAIL", orphans=2)
    run(pytester)
    lp.phase0(pytester)
    result = run(pytester, "-k", "reconciliation")
    assert result.ret == pytest.ExitCode.OK
    doc = lp.log_json(pytester)
    assert doc["items"]["0.2"]["status"] == "PASS"
    assert [(a["run"], a["status"]) for a in doc["items"]["0.2"]["attempts"]] == [("run 1", "FAIL")]
    assert doc["items"]["0.1"]["status"] == "PASS"  # kept from run 1: run 2 did not run it
    assert doc["items"]["0.1"]["results"][0]["run"] == "run 1"
    assert [r["number"] for r in doc["runs"]] == [1, 2]
    md = (lp.reports(pytester) / "execution-log.md").read_text()
    assert "Earlier attempts:\n- run 1" in md


def test_inert_without_log_items(pytester):
    lp.setup(pytester)
    pytester.makepyfile(test_plain="def test_x():\n    assert True\n")
    result = run(pytester)
    assert result.ret == pytest.ExitCode.OK
    assert not lp.reports(pytester).exists()
    assert not any(line.startswith("deploylog:") for line in result.outlines)


def test_collect_only_adds_no_run(pytester):
    lp.setup(pytester)
    lp.phase0(pytester)
    assert run(pytester, "--collect-only").ret == pytest.ExitCode.OK
    assert not lp.reports(pytester).exists()


def test_one_entry_per_host(pytester):
    lp.setup(pytester)
    pytester.makepyfile(
        test_hosts="""
import pytest
from deploylog.result import CheckResult

@pytest.mark.item("1.1")
@pytest.mark.parametrize("host", ["app1", "app2"])
def test_dump(verdict, host):
    status = "PASS" if host == "app1" else "FAIL"
    verdict(CheckResult("1.1", status, f"dump on {host}", evidence=f"size on {host}", host=host,
                        figures={"dump_path": f"/backups/{host}.dump"}))
"""
    )
    run(pytester)
    item = lp.log_json(pytester)["items"]["1.1"]
    assert item["status"] == "FAIL"
    assert [r["host"] for r in item["results"]] == ["app1", "app2"]
    assert "[host app1]" in item["evidence"] and "[host app2]" in item["evidence"]


def test_junit_xml_carries_the_item_property(pytester):
    lp.setup(pytester)
    lp.phase0(pytester)
    run(pytester, "--junitxml=junit.xml")
    tree = ElementTree.parse(pytester.path / "junit.xml")
    props = {case.get("name"): {p.get("name"): p.get("value") for p in case.iter("property")} for case in tree.iter("testcase")}
    assert props["test_distribution"] == {"item": "0.1", "status": "PASS"}
    assert props["test_permissions"] == {"item": "0.4", "status": "ERROR"}
    assert props["test_not_a_log_item"] == {}


def test_pytest_html_columns_evidence_and_redacted_environment(pytester):
    lp.setup(pytester)
    lp.phase0(pytester)
    run(pytester, "--html=report.html", "--self-contained-html")
    html = (pytester.path / "report.html").read_text(encoding="utf-8")
    assert "Log item" in html and "Phase" in html
    assert "col-logitem" in html and "0.1" in html
    extras = [base64.b64decode(blob).decode() for blob in re.findall(r"base64,([A-Za-z0-9+/=]+)", html)]
    assert any("posted_payments | 150" in text for text in extras)  # the evidence extra
    assert "Evidence 0.1" in html
    assert not any(lp.SECRET in text for text in extras)
    assert "osusproperties-payment_account_enhanced-17.0.1.0.9" in html  # environment table
    assert lp.SECRET not in html
    assert "password=***" in html


def test_json_report_metadata(pytester):
    lp.setup(pytester)
    lp.phase0(pytester)
    run(pytester, "--json-report", "--json-report-file=report.json")
    tests = {t["nodeid"].split("::")[-1]: t for t in json.loads((pytester.path / "report.json").read_text())["tests"]}
    meta = tests["test_distribution"]["metadata"]
    assert meta["item"] == "0.1" and meta["phase"] == "0" and meta["status"] == "PASS"
    assert meta["evidence"] == "posted_payments | 150"
    assert "metadata" not in tests["test_not_a_log_item"]


def test_config_error_stops_the_run_and_writes_nothing(pytester):
    lp.setup(pytester, lp.DEPLOY_TOML + "\n[thresholds]\nmin_posted_paymnts = 5\n")
    pytester.makepyfile(
        test_spec="""
import pytest

@pytest.mark.item("0.1")
def test_distribution(spec):
    pass
"""
    )
    result = run(pytester)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert "unknown key 'thresholds.min_posted_paymnts'" in result.stdout.str()
    assert not lp.reports(pytester).exists()


def test_phase7_stays_manual_until_recorded(pytester):
    lp.setup(pytester)
    shutil.copytree(REPO / "tests_phase7", pytester.path / "tests_phase7", ignore=shutil.ignore_patterns("__pycache__"))
    result = run(pytester, "tests_phase7")
    assert result.ret == pytest.ExitCode.OK
    doc = lp.log_json(pytester)
    assert {doc["items"][f"7.{n}"]["status"] for n in range(1, 6)} == {"MANUAL"}
    assert "deploylog record 7.1" in doc["items"]["7.1"]["message"]

    spec = spec_mod.load(pytester.path / "deploy.toml")
    actions.record_manual(spec, "7.1", "FAIL", "Quinn QA", "regular user could edit PAY/2025/0001")
    result = run(pytester, "tests_phase7")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(["*7.1*recorded FAIL by Quinn QA*"])
    actions.record_manual(spec, "7.1", "PASS", "Quinn QA", "fixed by group config; edit refused")
    run(pytester, "tests_phase7")
    item = lp.log_json(pytester)["items"]["7.1"]
    assert item["status"] == "PASS" and item["manual"]["tester"] == "Quinn QA"
    assert [a["status"] for a in item["attempts"]] == ["FAIL"]  # the earlier record; test runs only mirror it
    md = (lp.reports(pytester) / "execution-log.md").read_text()
    assert "Tester: Quinn QA" in md


def wrong_shape() -> str:
    """A state that is valid JSON but whose run lost a result's item (a hand edit, another tool)."""
    state = sc.state_of(sc.run(("0",), 0))
    del state["events"][0]["results"][1]["item"]
    return json.dumps(state)


@pytest.mark.parametrize(
    ("damaged", "reason"),
    [
        ('{"format": "deploylog-state/1", "events": [{"type": "run", ', "not valid JSON: Expecting property name"),
        (wrong_shape(), "not a deploylog-state/1 state: event seq 1 (run): results[1] has no 'item'"),
    ],
    ids=["not-json", "wrong-shape"],
)
def test_a_damaged_state_is_set_aside_named_and_the_run_recorded_in_a_new_log(pytester, damaged, reason):
    lp.setup(pytester)
    lp.phase0(pytester)
    path = lp.state_file(pytester)
    path.parent.mkdir()
    path.write_text(damaged)
    result = run(pytester)
    assert result.ret == reporter.NOT_RECORDED
    moved = [p for p in lp.reports(pytester).iterdir() if ".corrupt-" in p.name]
    assert len(moved) == 1 and re.fullmatch(rf"{re.escape(path.name)}\.corrupt-\d{{8}}T\d{{6}}Z", moved[0].name)
    assert moved[0].read_text() == damaged  # moved, never rewritten
    assert result.outlines[-1].startswith(f"deploylog: STATE SET ASIDE — the state was damaged ({reason}")
    assert result.outlines[-1].endswith(
        f"and moved to {moved[0]}; this run starts a new log WITHOUT the earlier results: look at the moved file"
    )
    assert result.outlines[-2].startswith("deploylog: NO-GO — ABORT & ROLLBACK: phase 0 failed")
    assert "Traceback" not in result.stdout.str()
    doc = lp.log_json(pytester)
    assert [m["path"] for m in doc["set_aside"]] == [str(moved[0])]
    assert doc["set_aside"][0]["reason"].startswith(reason)
    assert doc["items"]["0.1"]["status"] == "PASS" and len(doc["runs"]) == 1  # this run, in the new state
    header = (lp.reports(pytester) / "execution-log.md").read_text().split("---")[0]
    assert "**⚠️ State set aside**: earlier state set aside at " in header
    assert f": {moved[0]} ({reason}" in header and "the results recorded before it are NOT in this log" in header
    html = (lp.reports(pytester) / "execution-log.html").read_text()
    assert '<p class="error-banner">State set aside: earlier state set aside at' in html

    again = run(pytester)  # the next run appends to the new state as usual
    assert again.ret == pytest.ExitCode.TESTS_FAILED
    assert not any("STATE SET ASIDE" in line for line in again.outlines)
    doc = lp.log_json(pytester)
    assert len(doc["runs"]) == 2 and [m["path"] for m in doc["set_aside"]] == [str(moved[0])]


def test_a_state_of_another_deployment_is_not_recorded_over(pytester):
    lp.setup(pytester)
    lp.phase0(pytester)
    path = lp.state_file(pytester)
    path.parent.mkdir()
    path.write_text(json.dumps({**sc.state_of(), "deployment_id": "another-deployment"}))
    before = path.read_text()
    result = run(pytester)
    assert result.ret == reporter.NOT_RECORDED
    assert result.outlines[-1] == (
        f"deploylog: NOT RECORDED — the results of this run reached no execution log: {path} belongs to deployment "
        f"'another-deployment', not '{lp.DEPLOYMENT_ID}'; use another report_dir"
    )
    assert path.read_text() == before


def test_a_report_dir_that_cannot_be_created_is_not_recorded(pytester):
    """report_dir under a regular file: mkdir fails with ENOTDIR, for root too."""
    lp.setup(pytester, lp.DEPLOY_TOML.replace('report_dir = "reports"', 'report_dir = "a-file/reports"'))
    (pytester.path / "a-file").write_text("not a directory\n")
    lp.phase0(pytester)
    result = run(pytester)
    assert result.ret == reporter.NOT_RECORDED
    last = result.outlines[-1]
    assert last.startswith("deploylog: NOT RECORDED — the results of this run reached no execution log: [Errno 20] Not a directory:")
    assert str(pytester.path / "a-file" / "reports") in last
    assert not any(line.startswith("deploylog: NO-GO") for line in result.outlines)  # no verdict from no log
    assert "Traceback" not in result.stdout.str()


def test_a_full_disk_before_the_state_is_written_records_nothing_and_exits_3(pytester):
    lp.setup(pytester)
    lp.phase0(pytester)
    run(pytester)
    path = lp.state_file(pytester)
    before = path.read_text()
    done = lp.run_with_file_size_limit(pytester, len(before) + 200)  # the state with a second run no longer fits
    assert done.returncode == reporter.NOT_RECORDED, done.stdout + done.stderr
    last = done.stdout.splitlines()[-1]
    assert last.startswith("deploylog: NOT RECORDED — the results of this run reached no execution log: [Errno 27] File too large")
    assert "Traceback" not in done.stdout + done.stderr
    assert path.read_text() == before  # the old state intact, no stray temporary file
    assert not [p.name for p in lp.reports(pytester).iterdir() if p.name.endswith(".tmp")]


def test_a_full_disk_after_the_state_is_written_says_not_rendered_and_exits_3(pytester):
    lp.setup(pytester)
    lp.phase0(pytester)
    run(pytester)
    first = lp.state_file(pytester).stat().st_size
    md_size = (lp.reports(pytester) / "execution-log.md").stat().st_size
    limit = 2 * first + 2000  # room for the state with two runs, not for the Markdown log
    assert limit < md_size
    done = lp.run_with_file_size_limit(pytester, limit)
    assert done.returncode == reporter.NOT_RECORDED, done.stdout + done.stderr
    last = done.stdout.splitlines()[-1]
    state_path = lp.state_file(pytester)
    assert last.startswith(
        f"deploylog: NOT RENDERED — the results of this run are recorded in {state_path}, but the log files in "
        f"{lp.reports(pytester)} could not be written: [Errno 27] File too large"
    )
    assert last.endswith("; fix it, then run `deploylog render`")
    assert "Traceback" not in done.stdout + done.stderr
    assert len(state.load(state_path)["events"]) == 2  # recorded
    assert len(lp.log_json(pytester)["runs"]) == 1  # the files are stale until rendered again
    actions.render(spec_mod.load(pytester.path / "deploy.toml"))
    assert len(lp.log_json(pytester)["runs"]) == 2


def spawn(pytester: pytest.Pytester, *argv: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, *argv], cwd=pytester.path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


# Real processes that get ready, then append at the same instant (the moment a race needs).
BARRIER = """
import os, pathlib, time

def wait_for_go(name):
    pathlib.Path(f"ready-{name}-{os.getpid()}").touch()
    while not pathlib.Path("go").exists():
        time.sleep(0.001)
"""
RECORDER = """
import sys
from barrier import wait_for_go
from deploylog import spec
from deploylog.log import actions

loaded = spec.load("deploy.toml")
wait_for_go(sys.argv[1])
actions.record_manual(loaded, sys.argv[2], "PASS", sys.argv[1], sys.argv[3])
"""
LAST_TEST = """
from barrier import wait_for_go

def test_zz_last():  # runs after the log tests: the run's results are written right after it
    wait_for_go("pytest")
"""


def test_concurrent_runs_and_recordings_lose_nothing_and_leave_no_stale_log(pytester):
    """pytest runs and recordings appending at the same instant, in real processes, round after round:
    every event kept, and the files are what the last state renders (`deploylog verify`)."""
    lp.setup(pytester)
    lp.phase0(pytester)
    pytester.makepyfile(barrier=BARRIER, recorder=RECORDER, test_zz_last=LAST_TEST)
    notes = set()
    for round_ in range(3):
        for ready in pytester.path.glob("ready-*"):
            ready.unlink()
        (pytester.path / "go").unlink(missing_ok=True)
        procs = [spawn(pytester, "-m", "pytest", "-p", "no:cacheprovider", "-p", "no:randomly", "-q") for _ in range(2)]
        for n in range(1, 5):
            notes.add(f"round {round_} recorder {n}")
            procs.append(spawn(pytester, "recorder.py", f"rec{n}", f"7.{n}", f"round {round_} recorder {n}"))
        deadline = time.monotonic() + 120
        while len(list(pytester.path.glob("ready-*"))) < len(procs) and time.monotonic() < deadline:
            time.sleep(0.01)
        (pytester.path / "go").touch()
        for proc in procs:
            out, _ = proc.communicate(timeout=120)
            assert proc.returncode in (0, 1), out  # 1: phase 0 has its failing item
        verified = subprocess.run(
            [sys.executable, "-m", "deploylog", "verify"], cwd=pytester.path, capture_output=True, text=True, check=False
        )
        assert verified.returncode == 0, f"round {round_}:\n{verified.stdout}{verified.stderr}"
    events = state.load(lp.state_file(pytester))["events"]
    assert [e["seq"] for e in events] == list(range(1, 19))
    assert sum(1 for e in events if e["type"] == "run") == 6
    assert {e["notes"] for e in events if e["type"] == "manual"} == notes
