"""Items of the deployment's own, the pytest way (`@pytest.mark.item("4.8", title=...)`), driven for real
through the plugin (no database): they join the log like a built-in item, in every report, and a
test that names an unknown id without a title is one clear error, exit 4, never an INTERNALERROR."""

from __future__ import annotations

import base64
import json
import re
from xml.etree import ElementTree

import pytest

from deploylog import catalogue
from deploylog import spec as spec_mod
from deploylog.log import actions
from selftests.support import log_pytester as lp

pytest_plugins = ["pytester"]

OWN_TESTS = """
import pytest

@pytest.mark.item("4.8", title="Voucher numbers are unique", severity="medium")
def test_vouchers_unique():
    \"\"\"No two payments share a voucher number.\"\"\"
    duplicates = 0
    assert duplicates == 0, f"{duplicates} duplicate voucher number(s)"

@pytest.mark.item("4.19", title="Every journal has a sequence", expected="0 journals without a sequence")
def test_journal_sequences():
    missing = 2
    assert missing == 0, f"{missing} journal(s) without a sequence"

@pytest.mark.item("4.100", title="Currency rates are loaded", aspect="Data Integrity")
def test_currency_rates():
    raise RuntimeError("rate provider unreachable")
"""


def run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    quiet = ("-W", "ignore::pytest.PytestAssertRewriteWarning")
    return pytester.runpytest_inprocess("-p", "no:cacheprovider", *quiet, *args)


def own_suite(pytester: pytest.Pytester, tests: str = OWN_TESTS) -> None:
    lp.setup(pytester)
    pytester.makepyfile(test_own=tests)


def test_own_items_join_the_log_like_built_in_ones(pytester):
    own_suite(pytester)
    result = run(pytester, "--junitxml=junit.xml")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    doc = lp.log_json(pytester)
    items = doc["items"]
    passed, failed, errored = items["4.8"], items["4.19"], items["4.100"]
    assert (passed["status"], passed["title"], passed["phase"], passed["severity"]) == (
        "PASS",
        "Voucher numbers are unique",
        "4",
        "medium",
    )
    assert passed["expected"] == "No two payments share a voucher number."  # the test's docstring
    assert passed["origin"] == "test test_own.py::test_vouchers_unique" and passed["aspect"] == "Functional Tests"
    assert (failed["status"], failed["detail_status"], failed["severity"]) == ("FAIL", "FAIL", "high")
    assert failed["message"] == "2 journal(s) without a sequence"
    assert failed["expected"] == "0 journals without a sequence"
    assert (errored["status"], errored["detail_status"], errored["aspect"]) == ("FAIL", "ERROR", "Data Integrity")
    assert errored["message"] == "RuntimeError: rate provider unreachable"
    # in the log's order: after the built-in 4.7, 4.100 after 4.19 (numbers compare as numbers)
    ids = list(items)
    assert (
        ids.index("4.7") < ids.index("4.8") < ids.index("4.19") < ids.index("4.100") < ids.index("6.1")
    )  # phase 5: this deploy.toml protects nothing
    total = len(catalogue.ITEMS) + 3
    assert doc["summary"]["tests_passed"] == 1 and doc["summary"]["tests_total"] == total
    assert doc["phases"]["4"]["state"] == "FAIL" and doc["phases"]["4"]["note"] == "failed: 4.19, 4.100"
    assert "4.19 FAIL (high)" in doc["scores"]["Functional Tests"]["notes"]
    assert "4.100 ERROR (high)" in doc["scores"]["Data Integrity"]["notes"]
    assert doc["verdict"]["decision"] == "NO-GO" and "4.19" in doc["verdict"]["reason"]
    md = (lp.reports(pytester) / "execution-log.md").read_text()
    assert "### Test 4.8: Voucher numbers are unique" in md
    assert md.index("### Test 4.7:") < md.index("### Test 4.8:") < md.index("### Test 4.100:") < md.index("## ✅ PHASE 5")
    assert f"Tests Passed: 1 / {total}" in md
    html = (lp.reports(pytester) / "execution-log.html").read_text()
    assert 'id="item-4.100"' in html and "Currency rates are loaded" in html
    # JUnit: the item and its status, like a built-in item
    tree = ElementTree.parse(pytester.path / "junit.xml")
    props = {case.get("name"): {p.get("name"): p.get("value") for p in case.iter("property")} for case in tree.iter("testcase")}
    assert props["test_vouchers_unique"] == {"item": "4.8", "status": "PASS"}
    assert props["test_journal_sequences"] == {"item": "4.19", "status": "FAIL"}
    assert props["test_currency_rates"] == {"item": "4.100", "status": "ERROR"}


def test_own_items_carry_their_phase_markers_and_selection(pytester):
    own_suite(pytester)
    result = run(pytester, "-m", "post", "--items", "4.8")
    assert result.ret == pytest.ExitCode.OK
    result.assert_outcomes(passed=1, deselected=2)
    assert run(pytester, "-m", "phase0").ret == pytest.ExitCode.NO_TESTS_COLLECTED


def test_own_items_in_pytest_html_and_json_report(pytester):
    own_suite(pytester)
    run(pytester, "--html=report.html", "--self-contained-html", "--json-report", "--json-report-file=report.json")
    html = (pytester.path / "report.html").read_text(encoding="utf-8")
    cells = html.replace("\\&#34;", '"').replace("&lt;", "<").replace("&gt;", ">")  # the rows are escaped JSON in the page
    assert '<td class="col-logitem">4.19</td>' in cells and '<td class="col-phase">4</td>' in cells
    extras = [base64.b64decode(blob).decode() for blob in re.findall(r"base64,([A-Za-z0-9+/=]+)", html)]
    assert any(text.startswith("2 journal(s) without a sequence") for text in extras)
    tests = {t["nodeid"].split("::")[-1]: t for t in json.loads((pytester.path / "report.json").read_text())["tests"]}
    meta = tests["test_currency_rates"]["metadata"]
    assert (meta["item"], meta["phase"], meta["status"], meta["message"]) == (
        "4.100",
        "4",
        "ERROR",
        "RuntimeError: rate provider unreachable",
    )


def test_a_log_rendered_later_keeps_the_own_items(pytester):
    """`deploylog render` (no pytest, no test files) draws the items from the definitions the run recorded."""
    own_suite(pytester)
    run(pytester)
    (pytester.path / "test_own.py").unlink()
    (lp.reports(pytester) / "execution-log.json").unlink()
    actions.render(spec_mod.load(pytester.path / "deploy.toml"))
    doc = lp.log_json(pytester)
    assert doc["items"]["4.19"]["title"] == "Every journal has a sequence" and doc["items"]["4.19"]["status"] == "FAIL"


def test_an_own_item_not_run_is_listed_as_not_run(pytester):
    own_suite(pytester)
    run(pytester, "--items", "4.8")
    items = lp.log_json(pytester)["items"]
    assert items["4.19"]["status"] == "SKIP" and items["4.19"]["message"] == "not run"
    assert items["4.19"]["title"] == "Every journal has a sequence"


DEFINITION_ERRORS = {
    "unknown id without a title": (
        '@pytest.mark.item("4.8")',
        "deploylog: unknown log item '4.8' (test test_bad.py::test_x): an item of your own needs a title, "
        'e.g. @pytest.mark.item("4.8", title="What it checks")',
    ),
    "a built-in id under another title": (
        '@pytest.mark.item("4.1", title="My module loaded")',
        "deploylog: item 4.1 is a built-in item ('Module Loaded'); test test_bad.py::test_x gives it the title 'My module loaded': "
        "choose an id of your own (e.g. the next free number of the phase)",
    ),
    "an id of no phase": (
        '@pytest.mark.item("9.1", title="Later")',
        "deploylog: item id '9.1' (test test_bad.py::test_x) is not shaped <phase>.<n> with a phase P or 0-7 (e.g. '4.8', 'P.8')",
    ),
    "an unknown severity": (
        '@pytest.mark.item("4.8", title="T", severity="blocker")',
        "deploylog: item 4.8 (test test_bad.py::test_x): severity 'blocker' is not one of critical, high, medium, low",
    ),
    "an unknown marker argument": (
        '@pytest.mark.item("4.8", titel="T")',
        "deploylog: item marker of test_bad.py::test_x: unknown argument 'titel' (it takes title, expected, severity, aspect)",
    ),
}


@pytest.mark.parametrize("case", DEFINITION_ERRORS)
def test_an_item_that_cannot_be_defined_is_one_clear_error(pytester, case):
    marker, line = DEFINITION_ERRORS[case]
    lp.setup(pytester)
    pytester.makepyfile(test_bad=f"import pytest\n\n{marker}\ndef test_x():\n    pass\n")
    result = run(pytester)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert [text for text in result.errlines if text] == [f"ERROR: {line}"]
    assert "INTERNALERROR" not in result.stdout.str() + result.stderr.str()
    assert not lp.reports(pytester).exists()


def test_one_id_defined_twice_differently_is_an_error(pytester):
    lp.setup(pytester)
    pytester.makepyfile(
        test_twice="""
import pytest

@pytest.mark.item("4.8", title="Vouchers unique")
def test_a():
    pass

@pytest.mark.item("4.8", title="Voucher numbers unique")
def test_b():
    pass
"""
    )
    result = run(pytester)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert [line for line in result.errlines if line] == [
        "ERROR: deploylog: item 4.8 is defined twice, differently: 'Vouchers unique' (test test_twice.py::test_a) "
        "and 'Voucher numbers unique' (test test_twice.py::test_b)"
    ]


def test_under_xdist_an_item_that_cannot_be_defined_is_that_tests_error(pytester):
    """A worker cannot stop the session: the test is ERROR with the same line, never an INTERNALERROR."""
    lp.setup(pytester)
    pytester.makepyfile(test_bad='import pytest\n\n@pytest.mark.item("4.8")\ndef test_x():\n    pass\n')
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-p", "no:randomly", "-n", "2")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    output = result.stdout.str() + result.stderr.str()
    assert "INTERNALERROR" not in output
    line = 'unknown log item \'4.8\' (test test_bad.py::test_x): an item of your own needs a title, e.g. @pytest.mark.item("4.8", title="What it checks")'
    assert line in result.stdout.lines  # the error of the test's setup, one line
    assert lp.log_json(pytester)["items"]["4.8"]["detail_status"] == "ERROR"
