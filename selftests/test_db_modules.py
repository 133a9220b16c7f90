"""Issue 10.4: several modules in one deployment, through the real suite.

Each deployed module is recorded at phase 0 (0.3) and checked after (4.1: installed at its expected
version); database-wide, no module may be left 'to upgrade', 'to install' or 'to remove' (Odoo can fail
an upgrade and go on serving); a first install is declared, never guessed. Proven both ways.
"""

from __future__ import annotations

import json

import pytest

from deploylog import spec as spec_mod
from deploylog.demo import module_repo as hr
from deploylog.demo.simulate import record_module, upgrade_module
from selftests.support.host_spec import make_spec

PHASE0 = ("0.1", "0.2", "0.3", "0.4")
DB_POST = ("4.1", "4.5", "4.6", "4.7", "5.1", "5.2", "5.3", "5.4")
SECOND = {"name": hr.SECOND_MODULE, "expected_version": hr.SECOND_NEW_VERSION, "previous_version": hr.SECOND_OLD_VERSION}


def phase0(deployment):
    return deployment.run("-m", "phase0", "--items", ",".join(PHASE0))


def post(deployment):
    return deployment.run("-m", "post", "--items", ",".join(DB_POST))


@pytest.fixture
def two_modules(deployment, odoo_db):
    """The shipped deployment plus payment_reports 17.0.2.0.0 -> 17.0.2.1.0, installed before it."""
    deployment.configure(modules=[SECOND])
    record_module(odoo_db.dsn, hr.SECOND_MODULE, "installed", hr.SECOND_OLD_VERSION)
    return deployment


def rows_of(item):
    """The item's evidence with runs of spaces as one (its tables are padded)."""
    return " ".join(item["evidence"].split())


def baseline_of(deployment):
    return json.loads(next((deployment.root / "baseline").glob("*.json")).read_text())


def test_two_modules_healthy_pass_phase0_and_4_1(two_modules, odoo_db):
    before = phase0(two_modules)
    assert before.statuses() == dict.fromkeys(PHASE0, "PASS"), before.output
    data = baseline_of(two_modules)
    assert data["deployment_id"] == f"{odoo_db.name}-payment_account_enhanced-17.0.1.0.9+payment_reports-17.0.2.1.0"
    assert {name: m["latest_version"] for name, m in data["modules"].items()} == {
        "payment_account_enhanced": "17.0.1.0.8",
        "payment_reports": "17.0.2.0.0",
    }
    assert "payment_reports | installed | 17.0.2.0.0 | 17.0.2.0.0 | no" in rows_of(before.log()["items"]["0.3"])

    upgrade_module(odoo_db.dsn, "17.0.1.0.9")
    record_module(odoo_db.dsn, hr.SECOND_MODULE, "installed", hr.SECOND_NEW_VERSION)
    after = post(two_modules)
    assert after.statuses() == dict.fromkeys(DB_POST, "PASS"), after.output
    item = after.log()["items"]["4.1"]
    assert item["message"] == (
        "2 modules installed at their expected versions (payment_account_enhanced 17.0.1.0.9, payment_reports 17.0.2.1.0); "
        "no module of the database left pending"
    )
    assert "payment_reports | installed | 17.0.2.1.0 | installed, 17.0.2.1.0 | OK" in rows_of(item)
    assert after.log()["verdict"]["decision"] == "GO"
    header = (two_modules.report_dir / "execution-log.md").read_text()
    assert "**Modules**: payment_account_enhanced 17.0.1.0.8 -> 17.0.1.0.9; payment_reports 17.0.2.0.0 -> 17.0.2.1.0" in header


def test_a_module_left_at_its_old_version_fails_4_1_naming_it(two_modules, odoo_db):
    assert phase0(two_modules).status("0.3") == "PASS"
    upgrade_module(odoo_db.dsn, "17.0.1.0.9")  # the second module's upgrade did not happen
    run = post(two_modules)
    assert run.status("4.1") == "FAIL", run.output
    assert run.message("4.1").endswith("payment_reports: latest_version is '17.0.2.0.0', expected '17.0.2.1.0'")
    assert "payment_account_enhanced:" not in run.message("4.1")
    assert "payment_reports | installed | 17.0.2.0.0 | installed, 17.0.2.1.0 | FAIL" in rows_of(run.log()["items"]["4.1"])


def test_a_module_the_deployment_does_not_declare_left_pending_fails_4_1_naming_it(deployment, odoo_db):
    """The shipped one-module deployment: the upgrade went through, but Odoo left other modules marked."""
    assert phase0(deployment).status("0.3") == "PASS"
    upgrade_module(odoo_db.dsn, "17.0.1.0.9")
    odoo_db.execute("UPDATE ir_module_module SET state = 'to upgrade' WHERE name = 'web'")
    odoo_db.execute("UPDATE ir_module_module SET state = 'to install' WHERE name = 'sale'")
    odoo_db.execute("UPDATE ir_module_module SET state = 'to remove' WHERE name = 'account_payment'")
    run = post(deployment)
    assert run.status("4.1") == "FAIL", run.output
    assert run.message("4.1").endswith(
        "database-wide: module(s) left pending: account_payment 'to remove', sale 'to install', web 'to upgrade' "
        "(an operation Odoo did not apply)"
    )
    assert "payment_account_enhanced:" not in run.message("4.1")  # the deployed module itself is fine
    evidence = run.log()["items"]["4.1"]["evidence"]
    assert "'to remove': account_payment (to remove), sale (to install), web (to upgrade)" in evidence
    assert "state = ANY" in json.dumps(run.log()["items"]["4.1"]["queries"])


def test_a_module_pending_before_the_deployment_fails_phase0_naming_it(two_modules, odoo_db):
    odoo_db.execute("UPDATE ir_module_module SET state = 'to upgrade' WHERE name = 'web'")
    run = phase0(two_modules)
    assert run.status("0.3") == "FAIL", run.output
    assert "module(s) pending before the deployment: web 'to upgrade'" in run.message("0.3")
    assert "or declare them in [[modules]]" in run.message("0.3")
    assert "left 'to upgrade', 'to install' or 'to remove': web (to upgrade)" in run.log()["items"]["0.3"]["evidence"]
    assert run.log()["verdict"]["decision"] == "NO-GO"
    assert not list((two_modules.root / "baseline").glob("*.json"))


def test_a_declared_first_install_absent_at_phase0_goes_and_is_installed_after(deployment, odoo_db):
    deployment.configure(modules=[{"name": hr.SECOND_MODULE, "expected_version": hr.SECOND_NEW_VERSION, "first_install": True}])
    before = phase0(deployment)
    assert before.statuses() == dict.fromkeys(PHASE0, "PASS"), before.output
    assert "(first install declared: payment_reports not installed yet)" in before.log()["items"]["0.3"]["message"]
    assert before.log()["verdict"]["decision"] == "GO"
    assert baseline_of(deployment)["modules"]["payment_reports"]["found"] is False

    not_yet = deployment.run("-m", "post", "--items", "4.1")
    assert not_yet.status("4.1") == "FAIL"
    assert "payment_reports: not in ir_module_module (not installed)" in not_yet.message("4.1")

    upgrade_module(odoo_db.dsn, "17.0.1.0.9")
    record_module(odoo_db.dsn, hr.SECOND_MODULE, "installed", hr.SECOND_NEW_VERSION)  # what -i leaves behind
    after = post(deployment)
    assert after.statuses() == dict.fromkeys(DB_POST, "PASS"), after.output
    assert after.log()["verdict"]["decision"] == "GO"
    assert "payment_reports first install -> 17.0.2.1.0" in (deployment.report_dir / "execution-log.md").read_text()


def test_a_module_absent_at_phase0_without_first_install_fails_0_3_naming_the_key(deployment):
    deployment.configure(modules=[SECOND])
    run = phase0(deployment)
    assert run.status("0.3") == "FAIL", run.output
    assert run.message("0.3").endswith(
        "module 'payment_reports' (modules[0].name) is not in ir_module_module: "
        "fix modules[0].name, or declare a first install with modules[0].first_install = true"
    )
    assert "payment_reports | not in ir_module_module | - | 17.0.2.0.0 | no" in rows_of(run.log()["items"]["0.3"])
    assert run.log()["verdict"]["decision"] == "NO-GO"


def test_a_first_install_declared_for_an_installed_module_fails_0_3_naming_the_key(two_modules):
    two_modules.configure(modules=[{**SECOND, "first_install": True}])
    run = phase0(two_modules)
    assert run.status("0.3") == "FAIL", run.output
    assert "modules[0].first_install = true, but module 'payment_reports' is 'installed' at 17.0.2.0.0" in run.message("0.3")


def test_a_bad_modules_entry_stops_the_run_with_one_line_naming_the_key(deployment):
    deployment.configure(modules=[SECOND, SECOND])
    run = phase0(deployment)
    assert run.returncode == 4, run.output
    assert "modules[1].name: 'payment_reports' is declared twice (also modules[0])" in run.output
    assert "Traceback" not in run.output


# --- the spec: how [deployment] and [[modules]] combine, and what is refused -------------------------


def test_the_shipped_one_module_config_is_one_module():
    spec = make_spec()
    assert [(m.name, m.expected_version, m.previous_version) for m in spec.all_modules] == [
        ("payment_account_enhanced", "17.0.1.0.9", "17.0.1.0.8")
    ]
    assert spec.deployment_id == "osusproperties-payment_account_enhanced-17.0.1.0.9"
    assert spec.module_key("payment_account_enhanced", "first_install") == "[deployment] first_install"


def test_deployment_module_is_the_primary_and_modules_are_added_after_it():
    spec = make_spec(modules=[SECOND])
    assert [m.name for m in spec.all_modules] == ["payment_account_enhanced", "payment_reports"]
    assert spec.module_dir_of("payment_reports").name == "payment_reports"
    assert spec.module_key("payment_reports", "first_install") == "modules[0].first_install"


def test_the_primary_may_be_an_entry_or_the_first_entry():
    listed = make_spec(modules=[{"name": "payment_account_enhanced", "expected_version": "17.0.1.0.9"}, SECOND])
    assert [m.name for m in listed.all_modules] == ["payment_account_enhanced", "payment_reports"]
    assert listed.all_modules[0].previous_version == "17.0.1.0.8"  # written once, in [deployment]
    raw = {"deployment": {"title": "Reports"}, "database": {"name": "db"}, "modules": [SECOND]}
    only = spec_mod.build(raw)
    assert only.deployment.module == "payment_reports" and only.deployment.expected_version == "17.0.2.1.0"
    assert only.deployment_id == "db-payment_reports-17.0.2.1.0"


@pytest.mark.parametrize(
    ("raw_modules", "deployment", "message"),
    [
        ([{"name": "", "expected_version": "1.0"}], {}, "modules[0].name: empty: expected a module's technical name"),
        ([{"name": "payment reports", "expected_version": "1.0"}], {}, "modules[0].name: 'payment reports' is not a module's"),
        ([{"name": "x", "expected_version": "latest"}], {}, "modules[0].expected_version: 'latest' is not a version"),
        ([{"name": "x", "expected_version": "1.0", "previous_version": "v0.9"}], {}, "modules[0].previous_version: 'v0.9'"),
        (
            [{"name": "x", "expected_version": "1.0"}, {"name": "x", "expected_version": "1.0"}],
            {},
            "modules[1].name: 'x' is declared twice",
        ),
        (
            [{"name": "payment_account_enhanced", "expected_version": "17.0.1.1.0"}],
            {},
            "deployment.expected_version: '17.0.1.0.9', but modules[0].expected_version (the same module, payment_account_enhanced) "
            "is '17.0.1.1.0': declare a module's versions once",
        ),
        ([{"name": "x", "version": "1.0"}], {}, "unknown key 'modules[0].version'"),
        ([], {"module": ""}, "missing required key deployment.module (or declare the modules with [[modules]])"),
        (
            [{"name": "x", "expected_version": "1.0"}],
            {"module": "", "expected_version": "1.0"},
            "deployment.expected_version: set, but",
        ),
    ],
)
def test_a_bad_modules_declaration_is_one_line_naming_the_key(raw_modules, deployment, message):
    with pytest.raises(spec_mod.SpecError) as found:
        make_spec(modules=raw_modules, deployment=deployment)
    assert message in str(found.value)
    assert "\n" not in str(found.value)


def test_a_guard_names_a_deployed_module():
    guard = {"item": "4.4", "file": "models/payment_report.py", "function": "PaymentReport.unlink", "module": "payment_report"}
    with pytest.raises(spec_mod.SpecError, match=r"guards\[0\]\.module: 'payment_report' is not a deployed module"):
        make_spec(modules=[SECOND], guards=[guard])
    spec = make_spec(modules=[SECOND], guards=[{**guard, "module": hr.SECOND_MODULE}])
    assert spec.guard_module(spec.guards[0]) == hr.SECOND_MODULE
