"""Issue 8.2: a configured name that matches nothing is an error naming its key, never a quiet NA.

NA only for what deploy.toml declares optional ([reconciliation] optional);
a module's first install is declared ([deployment] first_install), not guessed.
"""

from __future__ import annotations

import json

from deploylog.demo.simulate import upgrade_module

PHASE0 = "0.1,0.2,0.3,0.4"
RECON_POST = "4.7,5.3,5.4"


def phase0(deployment, *extra):
    return deployment.run("-m", "phase0", "--items", PHASE0, *extra)


def test_absent_optional_reconciliation_tables_are_na_with_the_reason(deployment, odoo_db):
    odoo_db.execute("DROP TABLE account_bank_reconciliation_line, account_bank_reconciliation")
    deployment.configure(reconciliation={"optional": True})
    run = phase0(deployment)
    assert run.status("0.2") == "NA", run.output
    assert (
        "table account_bank_reconciliation_line does not exist in this database "
        "([reconciliation] optional = true: it is not stock Odoo 17)" in run.message("0.2")
    )
    assert run.status("0.3") == "PASS"


def test_absent_reconciliation_tables_not_declared_optional_are_an_error_naming_the_keys(deployment, odoo_db):
    odoo_db.execute("DROP TABLE account_bank_reconciliation_line, account_bank_reconciliation")
    deployment.configure(reconciliation={"optional": False})
    run = phase0(deployment)
    assert run.status("0.2") == "ERROR", run.output
    message = run.message("0.2")
    assert "[reconciliation] table = 'account_bank_reconciliation_line' does not exist in this database" in message
    assert "[reconciliation] optional = true" in message
    assert run.status("0.3") == "ERROR"  # the baseline needs the figure
    assert run.returncode != 0 and run.log()["verdict"]["decision"] != "GO"


def test_a_misspelt_reconciliation_table_is_an_error_even_when_optional(deployment):
    deployment.configure(reconciliation={"optional": True, "table": "account_bank_reconcilation_line"})
    run = phase0(deployment)
    assert run.status("0.2") == "ERROR", run.output
    assert (
        "[reconciliation] table = 'account_bank_reconcilation_line' is not a table of this database "
        "(did you mean account_bank_reconciliation_line?)" in run.message("0.2")
    )
    assert run.returncode != 0
    assert run.log()["verdict"]["decision"] != "GO"


def test_a_misspelt_post_reconciliation_table_errors_4_7_and_5_3(deployment, odoo_db):
    assert phase0(deployment).status("0.3") == "PASS"
    upgrade_module(odoo_db.dsn, "17.0.1.0.9")
    deployment.configure(reconciliation={"table": "account_bank_reconciliation_lines"})
    run = deployment.run("-m", "post", "--items", RECON_POST)
    for item in RECON_POST.split(","):
        assert run.status(item) == "ERROR", (item, run.output)
        assert "(did you mean account_bank_reconciliation_line?)" in run.message(item)


def test_a_misspelt_reconciliation_column_is_an_error_naming_the_key(deployment):
    deployment.configure(reconciliation={"move_column": "move_ids"})
    run = phase0(deployment)
    assert run.status("0.2") == "ERROR", run.output
    assert (
        "[reconciliation] move_column = 'move_ids' is not a column of public.account_bank_reconciliation_line "
        "(did you mean move_id?)" in run.message("0.2")
    )


def test_a_misspelt_module_fails_phase0_naming_the_keys(deployment):
    deployment.configure(deployment={"module": "payment_account_enhance"})
    run = phase0(deployment)
    assert run.status("0.3") == "FAIL", run.output
    assert (
        "module 'payment_account_enhance' ([deployment] module) is not in ir_module_module "
        "(did you mean payment_account_enhanced?)" in run.message("0.3")
    )
    assert "[deployment] first_install = true" in run.message("0.3")
    assert run.returncode == 1
    assert run.log()["verdict"]["decision"] == "NO-GO"
    assert not list((deployment.root / "baseline").glob("*.json"))


def test_an_uninstalled_module_is_an_upgrade_only_when_not_declared_a_first_install(deployment, odoo_db):
    odoo_db.execute("UPDATE ir_module_module SET state = 'uninstalled', latest_version = NULL WHERE name = 'payment_account_enhanced'")
    run = phase0(deployment)
    assert run.status("0.3") == "FAIL", run.output
    assert "is 'uninstalled' in ir_module_module" in run.message("0.3")

    deployment.configure(deployment={"first_install": True})
    first = phase0(deployment)
    assert first.status("0.3") == "PASS", first.output
    assert "baseline recorded (first install declared" in first.log()["items"]["0.3"]["message"]
    data = json.loads(next((deployment.root / "baseline").glob("*.json")).read_text())
    assert data["module_state"]["state"] == "uninstalled"

    not_installed = deployment.run("-m", "post", "--items", "4.1")
    assert not_installed.status("4.1") == "FAIL"
    assert "state is 'uninstalled', expected 'installed'" in not_installed.message("4.1")
    upgrade_module(odoo_db.dsn, "17.0.1.0.9")
    installed = deployment.run("-m", "post", "--items", "4.1")
    assert installed.status("4.1") == "PASS", installed.output


def test_a_first_install_declared_for_an_installed_module_fails(deployment):
    deployment.configure(deployment={"first_install": True})
    run = phase0(deployment)
    assert run.status("0.3") == "FAIL", run.output
    assert "[deployment] first_install = true, but module 'payment_account_enhanced' is 'installed'" in run.message("0.3")


def test_a_misspelt_group_names_the_group_it_may_mean(deployment):
    deployment.configure(groups={"reviewer": "payment_account_enhanced.group_payment_reviewr"})
    run = phase0(deployment)
    assert run.status("0.4") == "FAIL", run.output
    assert (
        "group payment_account_enhanced.group_payment_reviewr does not exist "
        "(did you mean payment_account_enhanced.group_payment_reviewer?)" in run.message("0.4")
    )
