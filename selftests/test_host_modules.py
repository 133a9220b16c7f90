"""Issue 10.4, the host side of several modules: 1.2 archives each module, 2.2 accepts each manifest's version
bump, 2.4 reads each manifest, a [[guards]] entry may name the module holding its file, 4.9 hashes each
deployed module's folder. Through the real suite, on a real checkout and real backups; proven both ways.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click_odoo_contrib._addon_hash import addon_hash as click_odoo_addon_hash

from deploylog.demo import module_repo as hr
from deploylog.demo.simulate import record_module
from deploylog.hostchecks import checksums
from selftests.support.host_scenario import Scenario

ITEMS = "1.2,2.2,2.4,4.4"
SECOND = {"name": hr.SECOND_MODULE, "expected_version": hr.SECOND_NEW_VERSION, "previous_version": hr.SECOND_OLD_VERSION}
REPORT_GUARD = {
    "item": "4.4",
    "module": hr.SECOND_MODULE,
    "file": "models/payment_report.py",
    "function": "PaymentReport.unlink",
    "description": "Payment reports are deleted by accounting managers only",
}


@pytest.fixture
def scenario(deployment, pg_cluster, odoo_db):
    """The shipped deployment plus payment_reports 17.0.2.0.0 -> 17.0.2.1.0, whose unlink guards 4.4."""
    s = Scenario(deployment, pg_cluster.bin_dir)
    s.before = hr.add_second_module(s.repo)
    guards = [g for g in deployment.config["guards"] if g["item"] != "4.4"]
    deployment.configure(modules=[SECOND], guards=[*guards, REPORT_GUARD])
    record_module(odoo_db.dsn, hr.SECOND_MODULE, "installed", hr.SECOND_OLD_VERSION)
    yield s
    s.server.stop()


def test_two_modules_pass_1_2_2_2_2_4_and_a_guard_in_the_second_module(scenario):
    scenario.phase0()
    taken = scenario.backups()
    assert [t.path.name.split("_2")[0] for t in taken if t.kind == "archive"] == ["payment_account_enhanced", "payment_reports"]
    hr.deploy(scenario.repo)
    hr.set_version(scenario.repo, hr.SECOND_MODULE, hr.SECOND_NEW_VERSION)
    run = scenario.d.run("--items", ITEMS)
    statuses = {item: run.status(item) for item in ITEMS.split(",")}
    assert set(statuses.values()) == {"PASS"}, (statuses, run.output[-4000:])
    log = run.log()["items"]
    assert log["1.2"]["message"].startswith("CREATED + VERIFIED: 2 modules: payment_account_enhanced_")
    assert "payment_reports/__manifest__.py: present, version 17.0.2.0.0" in log["1.2"]["evidence"]
    assert "payment_reports/__manifest__.py: only 'version' changed ('17.0.2.0.0' -> '17.0.2.1.0')" in log["2.2"]["evidence"]
    assert log["2.4"]["message"] == "CORRECT VERSIONS: payment_account_enhanced 17.0.1.0.9, payment_reports 17.0.2.1.0"
    assert "payment_reports/models/payment_report.py" in log["4.4"]["evidence"]
    assert "account.group_account_manager: res.groups id" in log["4.4"]["evidence"]


def test_each_fault_of_the_second_module_fails_its_item_naming_it(scenario):
    scenario.phase0()
    archive = next(t.path for t in scenario.backups() if t.path.name.startswith(f"{hr.SECOND_MODULE}_"))
    archive.unlink()  # its code backup lost
    hr.deploy(scenario.repo)  # the primary module bumped; the second not, and its guard removed
    unguarded = hr.REPORT_MODEL.replace(
        'if not self.env.user.has_group("account.group_account_manager"):\n'
        '            raise UserError(_("Only accounting managers delete payment reports."))\n',
        "",
    )
    hr.write(scenario.repo, f"{hr.SECOND_MODULE}/models/payment_report.py", unguarded)
    hr.git(scenario.repo, "commit", "-qam", "guard removed")
    run = scenario.d.run("--items", ITEMS)
    assert run.status("1.2") == "FAIL", run.output[-3000:]
    assert "FAILED: payment_reports: no payment_reports_<YYYYmmdd_HHMMSS>.tar.gz in" in run.message("1.2")
    assert "payment_account_enhanced:" not in run.message("1.2")
    assert run.status("2.4") == "FAIL"
    assert "WRONG VERSION (ABORT): payment_reports '17.0.2.0.0', expected '17.0.2.1.0'" in run.message("2.4")
    assert "payment_account_enhanced" not in run.message("2.4")
    assert run.status("4.4") == "FAIL"
    assert "PaymentReport.unlink raises no UserError" in run.message("4.4")


KEY = "module_auto_update.installed_checksums"


def test_4_9_hashes_every_deployed_module_and_fails_when_one_has_no_folder(deployment, odoo_db):
    repo = Path(deployment.config["paths"]["repo"])
    deployment.configure(modules=[SECOND])
    hr.add_second_module(repo)
    hr.deploy(repo)
    hr.set_version(repo, hr.SECOND_MODULE, hr.SECOND_NEW_VERSION)
    patterns = checksums.DEFAULT_EXCLUDE_PATTERNS.split(",")
    recorded = {m: click_odoo_addon_hash(str(repo / m), patterns, ["ar_001", "en_US"]) for m in (hr.MODULE, hr.SECOND_MODULE)}
    odoo_db.execute("INSERT INTO ir_config_parameter (key, value) VALUES (%s, %s)", (KEY, json.dumps(recorded)))
    record_module(odoo_db.dsn, hr.SECOND_MODULE, "installed", hr.SECOND_NEW_VERSION)
    run = deployment.run("-m", "post", "--items", "4.9")
    assert run.status("4.9") == "PASS", run.output
    assert run.log()["items"]["4.9"]["message"] == "code on disk matches the checksums click-odoo-update recorded for 2 module(s)"

    shutil.rmtree(repo / hr.SECOND_MODULE)  # a deployed module the checkout no longer holds
    gone = deployment.run("-m", "post", "--items", "4.9")
    assert gone.status("4.9") == "FAIL", gone.output
    assert f"payment_reports: folder {repo / hr.SECOND_MODULE} does not exist" in gone.message("4.9")
