"""The reporter driven for real: pytest runs small log tests (no database) and
the execution log, JUnit XML, pytest-html and pytest-json-report carry the items."""

from __future__ import annotations

import base64
import json
import re
import shutil
from pathlib import Path
from xml.etree import ElementTree

import pytest

from deploylog import spec as spec_mod
from deploylog.log import actions
from selftests.support import log_pytester as lp

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
