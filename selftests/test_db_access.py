"""Issue 8.1: a privilege the role lacks is an ERROR naming the GRANT, never "does not exist" (NA) or GO.

Every test connects as a real login role of the test cluster that holds
SELECT on the Odoo tables (what a DBA would grant the log), then takes one
privilege away.
"""

from __future__ import annotations

import pytest

from deploylog.demo.simulate import upgrade_module

PHASE0 = "0.1,0.2,0.3,0.4"
DB_POST = "4.1,4.5,4.6,4.7,5.1,5.2,5.3,5.4"


def as_reader(deployment, reader, *args):
    return deployment.run(*args, f"--dsn={reader.dsn}")


def test_a_reader_role_with_every_grant_passes_phase0_post_and_p7(deployment, odoo_db, reader):
    """pg_catalog lookups, pg_control_system() and the figures all work for a plain, non-superuser role."""
    phase0 = as_reader(deployment, reader, "-m", "phase0", "--items", PHASE0)
    assert phase0.statuses() == dict.fromkeys(PHASE0.split(","), "PASS"), phase0.output
    upgrade_module(odoo_db.dsn, "17.0.1.0.9")
    post = as_reader(deployment, reader, "-m", "post", "--items", DB_POST)
    assert post.statuses() == dict.fromkeys(DB_POST.split(","), "PASS"), post.output
    pre = as_reader(deployment, reader, "-m", "preflight", "--items", "P.7")
    assert pre.status("P.7") == "PASS", pre.output
    p7 = pre.log()["items"]["P.7"]
    assert p7["message"].startswith(f"role {reader.name} can read the ")
    evidence = p7["evidence"]
    assert "account_bank_reconciliation_line: move_id, reconciliation_id" in evidence
    assert "function pg_catalog.pg_control_system()" in evidence


def test_no_select_on_the_reconciliation_table_is_an_error_naming_the_grant_never_na(deployment, odoo_db, reader):
    phase0 = deployment.run("-m", "phase0", "--items", PHASE0)  # baseline taken by a role that can read everything
    assert phase0.statuses() == dict.fromkeys(PHASE0.split(","), "PASS"), phase0.output
    upgrade_module(odoo_db.dsn, "17.0.1.0.9")
    odoo_db.execute("DELETE FROM account_bank_reconciliation_line WHERE id = 7")
    odoo_db.execute("UPDATE account_bank_reconciliation_line SET move_id = NULL WHERE id = 5")
    reader.as_owner("REVOKE SELECT ON account_bank_reconciliation_line FROM {role}")
    grant = reader.grant("account_bank_reconciliation_line")

    post = as_reader(deployment, reader, "-m", "post", "--items", DB_POST)
    for item in ("4.7", "5.3", "5.4"):
        assert post.status(item) == "ERROR", (item, post.output)
        assert f"role {reader.name} may not read table public.account_bank_reconciliation_line" in post.message(item)
        assert grant in post.message(item)
    for item in ("4.1", "4.5", "4.6", "5.1", "5.2"):
        assert post.status(item) == "PASS", (item, post.message(item))
    assert post.returncode != 0
    assert post.log()["verdict"]["decision"] != "GO"
    assert "Traceback" not in post.output and "does not exist" not in post.output

    again = as_reader(deployment, reader, "-m", "phase0", "--items", "0.2")
    assert again.status("0.2") == "ERROR" and grant in again.message("0.2")


def test_no_select_on_group_membership_errors_its_three_items_in_one_line(deployment, odoo_db, reader):
    reader.as_owner("REVOKE SELECT ON res_groups_users_rel FROM {role}")
    grant = reader.grant("res_groups_users_rel")
    phase0 = as_reader(deployment, reader, "-m", "phase0", "--items", PHASE0)
    assert phase0.status("0.4") == "ERROR", phase0.output
    assert grant in phase0.message("0.4")
    assert "\n" not in phase0.message("0.4")
    assert {i: phase0.status(i) for i in ("0.1", "0.2", "0.3")} == dict.fromkeys(("0.1", "0.2", "0.3"), "PASS")
    upgrade_module(odoo_db.dsn, "17.0.1.0.9")
    post = as_reader(deployment, reader, "-m", "post", "--items", "4.1,4.6")
    assert post.status("4.6") == "ERROR" and grant in post.message("4.6")
    assert post.status("4.1") == "PASS"
    pre = as_reader(deployment, reader, "-m", "preflight", "--items", "P.6,P.7")
    assert pre.status("P.6") == "ERROR" and grant in pre.message("P.6")
    assert pre.status("P.7") == "FAIL" and grant in pre.message("P.7")
    for run in (phase0, post, pre):
        assert "Traceback" not in run.output and "InsufficientPrivilege" not in run.output


def test_p7_lists_every_missing_grant(deployment, reader):
    reader.as_owner("REVOKE SELECT ON account_payment, account_bank_reconciliation FROM {role}")
    pre = as_reader(deployment, reader, "-m", "preflight", "--items", "P.7")
    assert pre.status("P.7") == "FAIL", pre.output
    message = pre.message("P.7")
    assert f"role {reader.name} lacks 2 privilege(s)" in message
    assert reader.grant("account_payment") in message
    assert reader.grant("account_bank_reconciliation") in message


def test_column_level_grant_names_the_columns_and_the_table_grant(deployment, reader):
    reader.as_owner("REVOKE SELECT ON account_payment FROM {role}")
    reader.as_owner("GRANT SELECT (id, move_id) ON account_payment TO {role}")
    run = as_reader(deployment, reader, "-m", "phase0", "--items", "0.1")
    assert run.status("0.1") == "ERROR", run.output
    assert f"role {reader.name} may not read column(s) is_reconciled" in run.message("0.1")
    assert reader.grant("account_payment") in run.message("0.1")


def test_no_usage_on_the_schema_is_a_grant_not_an_absent_table(deployment, odoo_db, reader):
    """Without USAGE the search_path skips the schema: to_regclass finds nothing, pg_class still does."""
    odoo_db.execute("REVOKE USAGE ON SCHEMA public FROM PUBLIC")
    run = as_reader(deployment, reader, "-m", "phase0", "--items", PHASE0)
    for item in ("0.1", "0.2", "0.4"):
        assert run.status(item) == "ERROR", (item, run.output)
        assert f"GRANT USAGE ON SCHEMA public TO {reader.name};" in run.message(item)
    assert "Traceback" not in run.output


def test_a_refusal_the_declarations_missed_is_caught_at_run_time_with_the_same_shape(deployment, reader):
    """The backstop: SQL reading a table no declaration named is refused by the server; one line, the snapshot lives on."""
    from deploylog import db
    from deploylog import spec as spec_mod
    from deploylog.errors import PrivilegeError

    reader.as_owner("REVOKE SELECT ON res_users FROM {role}")
    deployment.configure(database={"dsn": reader.dsn})
    snap = db.open_snapshot(spec_mod.load(deployment.config_path))
    try:
        with pytest.raises(PrivilegeError) as refused:
            snap.memo("undeclared", lambda: snap.rows("SELECT count(*) FROM res_users"))
        assert str(refused.value) == (
            f"role {reader.name} may not read table res_users while reading undeclared "
            f"(permission denied for table res_users): run `GRANT SELECT ON res_users TO {reader.name};`"
        )
        assert snap.memo("after", lambda: snap.row("SELECT count(*) FROM account_payment")[0]) == 400  # still usable
    finally:
        snap.close()
