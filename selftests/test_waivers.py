"""Waivers, in Chef InSpec's manner, driven for real through the plugin (no database): a waived failure
is WAIVED with its justification and approver in every format and fails neither its phase nor the run;
an expired waiver is ignored and says so; a waivers file that cannot be used stops the run before
anything runs; the waivers in force are part of the log's digest."""

from __future__ import annotations

import base64
import json
import re
from xml.etree import ElementTree

import pytest

from deploylog import spec as spec_mod
from deploylog.log import actions, chain, state
from selftests.support import log_pytester as lp

pytest_plugins = ["pytester"]

TESTS = """
import pytest

@pytest.mark.item("4.8", title="Voucher numbers are unique", severity="critical")
def test_vouchers_unique():
    assert 3 == 0, "3 duplicate voucher number(s)"

@pytest.mark.item("4.19", title="Every journal has a sequence")
def test_journal_sequences():
    raise RuntimeError("sequence table unreadable")

@pytest.mark.item("4.100", title="Currency rates are loaded")
def test_currency_rates():
    pass
"""

WAIVER_48 = """
[[waivers]]
item = "4.8"
justification = "Legacy vouchers of 2019 are duplicated; cleanup in CHG-1234"
approved_by = "Dana Finance (CFO)"
expires = 2099-12-31
"""


def run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    quiet = ("-W", "ignore::pytest.PytestAssertRewriteWarning")
    return pytester.runpytest_inprocess("-p", "no:cacheprovider", *quiet, *args)


def suite(pytester: pytest.Pytester, waivers: str | None, tests: str = TESTS) -> None:
    extra = '\n[waivers]\nfile = "waivers.toml"\n' if waivers is not None else ""
    lp.setup(pytester, lp.DEPLOY_TOML + extra)
    pytester.makepyfile(test_own=tests)
    if waivers is not None:
        (pytester.path / "waivers.toml").write_text(waivers)


def test_a_waived_failure_is_waived_everywhere_and_fails_nothing(pytester):
    suite(pytester, WAIVER_48, TESTS.replace('raise RuntimeError("sequence table unreadable")', "pass"))
    result = run(pytester, "-rx", "--junitxml=junit.xml", "--html=report.html", "--self-contained-html", "--json-report")
    assert result.ret == pytest.ExitCode.OK  # the only failure is waived
    result.assert_outcomes(passed=2, xfailed=1)
    result.stdout.fnmatch_lines(
        ["*XFAIL*test_vouchers_unique*WAIVED 4.8: Legacy vouchers of 2019*(approved by Dana Finance (CFO), until 2099-12-31)*"]
    )
    doc = lp.log_json(pytester)
    item = doc["items"]["4.8"]
    assert (item["status"], item["detail_status"], item["waived_status"]) == ("WAIVED", "WAIVED", "FAIL")
    assert item["message"] == "3 duplicate voucher number(s)"
    assert item["waiver"] == {
        "item": "4.8",
        "justification": "Legacy vouchers of 2019 are duplicated; cleanup in CHG-1234",
        "approved_by": "Dana Finance (CFO)",
        "expires": "2099-12-31",
        "run": True,
    }
    # a critical item's waived failure fails neither its phase nor the overall status
    assert doc["phases"]["4"]["state"] == "INCOMPLETE" and doc["phases"]["4"]["note"].endswith("waived: 4.8")
    assert doc["overall"] == "MINOR ISSUES" and doc["critical_issues"] == [] and doc["issues"] == []
    waived_line = "4.8 Voucher numbers are unique: FAIL waived: Legacy vouchers of 2019 are duplicated; cleanup in CHG-1234 (approved by Dana Finance (CFO), until 2099-12-31)"
    assert doc["waived"] == [waived_line]
    assert doc["summary"]["waived"] == 1 and doc["summary"]["failed"] == 0
    assert doc["scores"]["Functional Tests"]["score"] == 5 and "waived: 4.8" in doc["scores"]["Functional Tests"]["notes"]
    assert [w["state"] for w in doc["waivers"]] == ["in force"]
    md = (lp.reports(pytester) / "execution-log.md").read_text()
    assert (
        "Status: ☐ PASS ☑ FAIL — WAIVED (FAIL waived: Legacy vouchers of 2019 are duplicated; cleanup in CHG-1234 (approved by Dana Finance (CFO), until 2099-12-31))"
        in md
    )
    assert f"Waived:\n1. {waived_line}" in md
    assert "4.8: in force; until 2099-12-31; approved by Dana Finance (CFO); Legacy vouchers" in md
    html = (lp.reports(pytester) / "execution-log.html").read_text()
    assert '<span class="badge s-WAIVED">WAIVED</span>' in html
    assert (
        "Waiver: FAIL waived: Legacy vouchers of 2019 are duplicated; cleanup in CHG-1234 (approved by Dana Finance (CFO), until 2099-12-31)"
        in html
    )
    tree = ElementTree.parse(pytester.path / "junit.xml")
    props = {case.get("name"): {p.get("name"): p.get("value") for p in case.iter("property")} for case in tree.iter("testcase")}
    assert props["test_vouchers_unique"] == {"item": "4.8", "status": "WAIVED"}
    page = (pytester.path / "report.html").read_text(encoding="utf-8")
    extras = [base64.b64decode(blob).decode() for blob in re.findall(r"base64,([A-Za-z0-9+/=]+)", page)]
    tests = {t["nodeid"].split("::")[-1]: t for t in json.loads((pytester.path / ".report.json").read_text())["tests"]}
    meta = tests["test_vouchers_unique"]["metadata"]
    assert (meta["status"], meta["waived_status"], meta["waiver"]["approved_by"]) == ("WAIVED", "FAIL", "Dana Finance (CFO)")
    evidence = "WAIVED (FAIL waived: Legacy vouchers of 2019 are duplicated; cleanup in CHG-1234 (approved by Dana Finance (CFO), until 2099-12-31))"
    assert any(text.startswith(f"{evidence}\n3 duplicate voucher number(s)") for text in extras)


def test_a_waived_error_and_the_verdict(pytester):
    waivers = WAIVER_48 + WAIVER_48.replace('"4.8"', '"4.19"')
    suite(pytester, waivers)
    result = run(pytester)
    assert result.ret == pytest.ExitCode.OK
    doc = lp.log_json(pytester)
    assert doc["items"]["4.19"]["status"] == "WAIVED" and doc["items"]["4.19"]["waived_status"] == "ERROR"
    assert doc["items"]["4.19"]["message"] == "RuntimeError: sequence table unreadable"
    assert "4.8" not in doc["verdict"]["reason"] or "WAIVED" in doc["verdict"]["reason"]
    assert doc["verdict"]["decision"] == "NO-GO"  # phase 0 has not passed yet, nothing about 4.8 / 4.19


def test_a_waiver_that_does_not_run_the_item(pytester):
    suite(pytester, WAIVER_48 + "run = false\n")
    result = run(pytester)
    result.assert_outcomes(passed=1, failed=1, skipped=1)
    item = lp.log_json(pytester)["items"]["4.8"]
    assert (item["status"], item["waived_status"], item["waiver"]["run"]) == ("WAIVED", "SKIP", False)
    assert item["message"].startswith("WAIVED 4.8: Legacy vouchers of 2019")
    md = (lp.reports(pytester) / "execution-log.md").read_text()
    assert "Status: ☐ PASS ☐ FAIL — WAIVED (not run: Legacy vouchers" in md


def test_an_expired_waiver_is_ignored_and_says_so(pytester):
    suite(pytester, WAIVER_48.replace("2099-12-31", "2020-01-31"))
    result = run(pytester)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(["deploylog: waiver of 4.8 (Dana Finance (CFO)) expired on 2020-01-31: ignored"])
    doc = lp.log_json(pytester)
    item = doc["items"]["4.8"]
    assert item["status"] == "FAIL"
    assert (
        item["message"]
        == "3 duplicate voucher number(s) (waiver of 4.8 (approved by Dana Finance (CFO)) expired on 2020-01-31: ignored)"
    )
    assert doc["overall"] == "CRITICAL FAILURE"
    assert [w["state"] for w in doc["waivers"]] == ["expired"]
    md = (lp.reports(pytester) / "execution-log.md").read_text()
    assert "4.8: EXPIRED on 2020-01-31: ignored; until 2020-01-31" in md


MALFORMED = {
    "not TOML": ("[[waivers]\nitem = 4.8", "not valid TOML"),
    "no approver": (
        WAIVER_48.replace('approved_by = "Dana Finance (CFO)"\n', ""),
        "missing required key waivers file {path}: waivers[0].approved_by",
    ),
    "a misspelt key": (
        WAIVER_48.replace("approved_by", "approver"),
        "unknown key 'waivers file {path}: waivers[0].approver' (did you mean 'approved_by'?)",
    ),
    "not a date": (
        WAIVER_48.replace("2099-12-31", '"end of year"'),
        "waivers file {path}: waivers[0].expires: 'end of year' is not a date (YYYY-MM-DD)",
    ),
    "an unknown item": (
        WAIVER_48.replace('"4.8"', '"4.88"'),
        "waivers file {path}: waivers[0].item: '4.88' is not a log item of this deployment: not built-in, not a [[checks]] entry, not an item of a test",
    ),
    "an item waived twice": (WAIVER_48 + WAIVER_48, "waivers file {path}: waivers[1].item: 4.8 is waived twice"),
    "no such file": (None, "waivers file {path} ([waivers] file in deploy.toml) does not exist"),
}


@pytest.mark.parametrize("case", MALFORMED)
def test_a_waivers_file_that_cannot_be_used_stops_the_run_before_anything_runs(pytester, case):
    text, problem = MALFORMED[case]
    suite(pytester, text or "")
    path = pytester.path / "waivers.toml"
    if text is None:
        path.unlink()
    result = run(pytester)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    output = result.stdout.str()
    lines = [line for line in output.splitlines() if "deploylog: configuration error" in line]
    assert len(lines) == 1 and problem.format(path=path) in lines[0], output
    assert "passed" not in output and "failed" not in output
    assert not lp.reports(pytester).exists()  # nothing recorded


def test_the_waivers_in_force_are_part_of_the_digest(pytester):
    suite(pytester, WAIVER_48)
    run(pytester)
    spec = spec_mod.load(pytester.path / "deploy.toml")
    recorded = state.load(lp.state_file(pytester))
    run_event = recorded["events"][0]
    assert run_event["waivers"] == [
        {
            "item": "4.8",
            "justification": "Legacy vouchers of 2019 are duplicated; cleanup in CHG-1234",
            "approved_by": "Dana Finance (CFO)",
            "expires": "2099-12-31",
            "run": True,
            "state": "in force",
            "file": str(pytester.path / "waivers.toml"),
        }
    ]
    head = chain.head(recorded["deployment_id"], "", recorded["events"])
    assert lp.log_json(pytester)["digest"] == head
    assert all(check.ok for check in actions.verify(spec))
    # another approver on the same run: another digest, and verify catches the edit
    edited = json.loads(json.dumps(recorded))
    edited["events"][0]["waivers"][0]["approved_by"] = "Someone Else"
    assert chain.head(edited["deployment_id"], "", edited["events"]) != head
    state.save(lp.state_file(pytester), edited)
    checks = {c.subject: c for c in actions.verify(spec)}
    assert not checks["execution-log.json"].ok
    assert checks["execution-log.json"].detail == "its digest is not the recomputed one (edited, or stale)"
