"""Database items proven both ways: PASS on a healthy deployment, FAIL (right item, clear message) on each fault."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from deploylog.demo.simulate import upgrade_module
from selftests.support.suite import REPO

PHASE0 = ("0.1", "0.2", "0.3", "0.4")
DB_POST = ("4.1", "4.5", "4.6", "4.7", "5.1", "5.2", "5.3", "5.4")
DB_ITEMS = ",".join((*PHASE0, *DB_POST))


def phase0(deployment, *extra):
    return deployment.run("-m", "phase0", "--items", ",".join(PHASE0), *extra)


def post(deployment, *extra):
    return deployment.run("-m", "post", "--items", ",".join(DB_POST), *extra)


def deployed(deployment, odoo_db):
    """Phase 0 passes, then the module is upgraded as a real -u would."""
    before = phase0(deployment)
    assert before.statuses() == dict.fromkeys(PHASE0, "PASS"), before.output
    upgrade_module(odoo_db.dsn, "17.0.1.0.9")


def test_healthy_deployment_passes_every_database_item(deployment, odoo_db):
    deployed(deployment, odoo_db)
    after = post(deployment)
    assert after.statuses() == dict.fromkeys(DB_POST, "PASS"), after.output
    assert after.returncode == 0
    item = after.log()["items"]["5.4"]  # exact: "MATCH" in text would also accept "MISMATCH"
    assert item["status"] == "PASS" and item["message"].startswith("MATCH: "), item["message"]


def test_phase0_records_a_baseline_bound_to_the_database(deployment, odoo_db):
    run = phase0(deployment)
    assert run.status("0.3") == "PASS"
    data = json.loads(next((deployment.root / "baseline").glob("*.json")).read_text())
    assert data["database"]["database"] == odoo_db.name
    assert data["figures"]["payments"] == odoo_db.scalar("SELECT count(*) FROM account_payment")
    assert data["figures"]["reconciled_payments"] == odoo_db.scalar("SELECT count(*) FROM account_payment WHERE is_reconciled")
    assert data["figures"]["reconciliation_lines"] == odoo_db.scalar("SELECT count(*) FROM account_bank_reconciliation_line")
    # the digest and the server it is stable on, for the comparison after
    assert data["format"] == 3
    assert data["fingerprint"]["method"] == "hash_record_extended+bit_xor"
    assert data["fingerprint"]["server_major"] == odoo_db.scalar("SELECT current_setting('server_version_num')::int / 10000")
    assert data["module_state"]["latest_version"] == "17.0.1.0.8"
    assert data["digest"].startswith("sha256:")


# --- phase 0 faults -------------------------------------------------------------------------

PHASE0_FAULTS = {
    "null approval_state": (
        "UPDATE account_payment SET approval_state = NULL WHERE id IN (SELECT id FROM account_payment ORDER BY id LIMIT 3)",
        "0.1",
        "3 payment(s) with NULL approval_state",
    ),
    "too few posted payments": (
        "UPDATE account_move SET state = 'draft' WHERE id IN (SELECT move_id FROM account_payment)",
        "0.1",
        "posted payments 0 <= 100",
    ),
    "orphaned line": (
        "INSERT INTO account_bank_reconciliation_line (reconciliation_id, move_id, amount) VALUES (1, NULL, 10)",
        "0.2",
        "1 orphaned line(s)",
    ),
    "manager group emptied": (
        "DELETE FROM res_groups_users_rel WHERE gid = (SELECT res_id FROM ir_model_data "
        "WHERE module = 'payment_account_enhanced' AND name = 'group_payment_manager')",
        "0.4",
        "Payment Manager has 0 active member(s)",
    ),
    "only an inactive manager": (
        "DELETE FROM res_groups_users_rel WHERE uid = 3",
        "0.4",
        "Payment Manager has 0 active member(s)",
    ),
    "reviewer group missing": (
        "DELETE FROM ir_model_data WHERE module = 'payment_account_enhanced' AND name = 'group_payment_reviewer'",
        "0.4",
        "group payment_account_enhanced.group_payment_reviewer does not exist",
    ),
}


@pytest.mark.parametrize("fault", PHASE0_FAULTS)
def test_phase0_fault_fails_its_item(deployment, odoo_db, fault):
    statement, item, message = PHASE0_FAULTS[fault]
    odoo_db.execute(statement)
    run = phase0(deployment)
    assert run.status(item) == "FAIL", run.output
    assert message in run.message(item)
    assert f"[{item}]" in run.message(item)
    assert run.returncode == 1
    others = {i: s for i, s in run.statuses().items() if i != item and i != "0.3"}
    assert "FAIL" not in others.values() or fault == "manager group emptied", others


# --- post-deployment faults ------------------------------------------------------------------

POST_FAULTS = {
    "payment deleted": (
        "DELETE FROM account_payment WHERE id = (SELECT max(id) FROM account_payment WHERE NOT is_reconciled)",
        "5.1",
        "payments 400 -> 399 (-1)",
    ),
    "posted invoice reset to draft": (
        "UPDATE account_move SET state = 'draft' WHERE id = (SELECT min(id) FROM account_move "
        "WHERE state = 'posted' AND move_type = 'out_invoice')",
        "5.2",
        "posted_invoices",
    ),
    "reconciliation line deleted": (
        "DELETE FROM account_bank_reconciliation_line WHERE id = 7",
        "5.3",
        "reconciliation_lines 120 -> 119 (-1)",
    ),
    "reconciled payment unreconciled": (
        "UPDATE account_payment SET is_reconciled = false WHERE id = (SELECT min(id) FROM account_payment WHERE is_reconciled)",
        "5.4",
        "reconciled_payments fingerprint changed: removed row id(s)",
    ),
    "module left in to upgrade": (
        "UPDATE ir_module_module SET state = 'to upgrade' WHERE name = 'payment_account_enhanced'",
        "4.1",
        "state is 'to upgrade', expected 'installed'",
    ),
    "manager group emptied": (
        "DELETE FROM res_groups_users_rel WHERE gid = 16",
        "4.6",
        "Payment Manager has 0 active member(s) (expected >= 1)",
    ),
    "orphaned line": (
        "UPDATE account_bank_reconciliation_line SET move_id = NULL WHERE id = 5",
        "4.7",
        "ORPHANS FOUND: 1 (1 without move",
    ),
    "null approval_state on a new payment": (
        "UPDATE account_payment SET approval_state = NULL WHERE id = (SELECT max(id) FROM account_payment "
        "WHERE create_date >= now() - interval '30 days')",
        "4.5",
        "1 with NULL approval_state",
    ),
    "approval_state outside the selection": (
        "UPDATE account_payment SET approval_state = 'pending_magic' WHERE id = (SELECT max(id) FROM account_payment "
        "WHERE create_date >= now() - interval '30 days')",
        "4.5",
        "values outside the selection ['pending_magic']",
    ),
}


@pytest.mark.parametrize("fault", POST_FAULTS)
def test_post_fault_fails_its_item(deployment, odoo_db, fault):
    deployed(deployment, odoo_db)
    statement, item, message = POST_FAULTS[fault]
    odoo_db.execute(statement)
    run = post(deployment)
    assert run.status(item) == "FAIL", run.output
    assert message in run.message(item), run.message(item)
    assert run.returncode == 1


def test_wrong_version_fails_4_1(deployment, odoo_db):
    phase0(deployment)
    upgrade_module(odoo_db.dsn, "17.0.1.0.7")
    run = post(deployment)
    assert run.status("4.1") == "FAIL"
    assert "latest_version is '17.0.1.0.7', expected '17.0.1.0.9'" in run.message("4.1")


def test_changed_amount_with_equal_counts_names_the_row(deployment, odoo_db):
    deployed(deployment, odoo_db)
    victim = odoo_db.scalar("SELECT min(id) FROM account_payment WHERE is_reconciled")
    odoo_db.execute("UPDATE account_payment SET amount = amount + 0.01 WHERE id = %s", (victim,))
    run = post(deployment)
    for item in ("5.1", "5.4"):
        assert run.status(item) == "FAIL", run.output
        assert f"changed row id(s) {victim}" in run.message(item)
    assert "Difference: +0" in json.dumps(run.log()["items"]["5.4"])  # counts are equal
    assert run.status("5.2") == "PASS"


# --- bad baselines and bad inputs --------------------------------------------------------------


def test_post_without_baseline_says_which_command_creates_it(deployment, odoo_db):
    run = post(deployment)
    for item in ("5.1", "5.2", "5.3", "5.4"):
        assert run.status(item) in ("ERROR", "FAIL")
        assert "run `pytest -m phase0`" in run.message(item)
    assert run.status("4.1") == "FAIL"  # version still 17.0.1.0.8: not deployed


def test_tampered_baseline_is_refused(deployment, odoo_db):
    deployed(deployment, odoo_db)
    path = next((deployment.root / "baseline").glob("*.json"))
    data = json.loads(path.read_text())
    data["figures"]["payments"] -= 1
    path.write_text(json.dumps(data))
    run = post(deployment)
    assert run.status("5.1") in ("ERROR", "FAIL")
    assert "modified after capture" in run.message("5.1")


def test_tampered_row_file_is_refused(deployment, odoo_db):
    deployed(deployment, odoo_db)
    rows = next((deployment.root / "baseline").glob("*.rows")) / "payments.tsv"
    rows.write_text(rows.read_text().replace("\t", "\t0", 1))
    run = post(deployment)
    assert "modified after capture" in run.message("5.2")


def test_corrupt_baseline_is_refused(deployment, odoo_db):
    deployed(deployment, odoo_db)
    next((deployment.root / "baseline").glob("*.json")).write_text("{not json")
    run = post(deployment)
    assert "is corrupt" in run.message("5.4")


def test_baseline_from_another_database_is_refused(deployment, odoo_db, odoo_db_factory):
    deployed(deployment, odoo_db)
    other = odoo_db_factory("osusproperties_other")
    upgrade_module(other.dsn, "17.0.1.0.9")
    deployment.configure(database={"name": other.name, "dsn": other.dsn})
    # same deployment id: the baseline file is found, but it belongs to another database
    deployment.configure(deployment={"id": f"{odoo_db.name}-payment_account_enhanced-17.0.1.0.9"})
    run = post(deployment)
    assert run.status("5.1") in ("ERROR", "FAIL")
    assert "refusing to compare" in run.message("5.1")
    assert run.status("4.1") == "PASS"


def test_existing_baseline_is_not_overwritten_without_the_flag(deployment, odoo_db):
    assert phase0(deployment).status("0.3") == "PASS"
    again = phase0(deployment)
    assert again.status("0.3") == "PASS"
    assert "still matches the database; kept" in json.dumps(again.log()["items"]["0.3"])
    odoo_db.execute("DELETE FROM account_payment WHERE id = 1")
    changed = phase0(deployment)
    assert changed.status("0.3") == "FAIL"
    assert "--recapture-baseline" in changed.message("0.3")
    replaced = phase0(deployment, "--recapture-baseline")
    assert replaced.status("0.3") == "PASS"
    assert list((deployment.root / "baseline").glob("*.superseded-*.json"))


def test_unreachable_server_fails_with_one_line(deployment):
    deployment.configure(database={"dsn": "host=127.0.0.1 port=1 connect_timeout=2"})
    run = deployment.run("-m", "phase0 or post", "--items", DB_ITEMS)
    for item in ("0.1", "4.1", "5.1"):
        assert run.status(item) in ("ERROR", "FAIL")
        assert "database unreachable" in run.message(item)
    assert "Traceback" not in run.output
    assert run.returncode != 0


def test_missing_reconciliation_table_is_na_not_a_crash(deployment, odoo_db):
    odoo_db.execute("DROP TABLE account_bank_reconciliation_line, account_bank_reconciliation")
    deployed_run = phase0(deployment)
    assert deployed_run.status("0.2") == "NA"
    assert "does not exist" in deployed_run.message("0.2")
    assert deployed_run.status("0.3") == "PASS"
    upgrade_module(odoo_db.dsn, "17.0.1.0.9")
    run = post(deployment)
    assert run.status("4.7") == "NA"
    assert run.status("5.3") == "NA"
    assert run.status("5.4") == "PASS"


def test_unknown_config_key_stops_the_run_with_one_line_and_writes_nothing(deployment):
    deployment.configure(database={"dns": "oops"})
    run = phase0(deployment)
    assert run.returncode == 4, run.output
    assert "unknown key 'database.dns' (did you mean 'dsn'?)" in run.output
    assert "Traceback" not in run.output
    assert not deployment.report_dir.exists()


def test_a_config_error_never_overwrites_another_deployments_log(deployment, odoo_db):
    """Issue 8.9: `--deploy-config=deploy.tmol` used to replace the real log with an "unconfigured" one."""
    good = phase0(deployment)
    assert good.statuses() == dict.fromkeys(PHASE0, "PASS"), good.output
    before = {p.name: p.read_bytes() for p in deployment.report_dir.iterdir()}
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-m", "phase0", "--deploy-config=deploy.tmol", f"--report-dir={deployment.report_dir}"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 4, done.stdout + done.stderr
    assert "deployment config not found" in done.stdout + done.stderr
    assert {p.name: p.read_bytes() for p in deployment.report_dir.iterdir()} == before


def test_checks_run_read_only(deployment, odoo_db):
    """The session the suite opens refuses writes, has timeouts and names itself."""
    from deploylog import db, spec

    loaded = spec.load(deployment.config_path)
    snap = db.Snapshot(db.connect(loaded))
    try:
        settings = dict(
            snap.rows(
                "SELECT name, setting FROM pg_settings WHERE name IN "
                "('default_transaction_read_only', 'statement_timeout', 'lock_timeout', 'application_name')"
            )
        )
        assert settings == {
            "application_name": "deploylog",
            "default_transaction_read_only": "on",
            "lock_timeout": "2000",
            "statement_timeout": "60000",
        }
        with pytest.raises(Exception, match="read-only transaction"):
            snap.rows("DELETE FROM account_payment")
    finally:
        snap.close()


def test_dsn_option_overrides_the_config(deployment, odoo_db):
    """`pytest -m phase0 --dsn ...` as documented: the command line wins over deploy.toml."""
    deployment.configure(database={"dsn": "host=127.0.0.1 port=1 dbname=nowhere"})
    run = phase0(deployment, f"--dsn={odoo_db.dsn}")
    assert run.statuses() == dict.fromkeys(PHASE0, "PASS"), run.output


def test_libpq_environment_is_used_when_the_dsn_is_empty(deployment, odoo_db):
    """No dsn anywhere: PGHOST/PGPORT/PGUSER as libpq reads them, database name from deploy.toml."""
    deployment.configure(database={"dsn": ""})
    port = odoo_db.dsn.split("port=")[1].split()[0]
    run = deployment.run(
        "-m", "phase0", "--items", ",".join(PHASE0), env={"PGHOST": "127.0.0.1", "PGPORT": port, "PGUSER": "postgres"}
    )
    assert run.statuses() == dict.fromkeys(PHASE0, "PASS"), run.output


def test_set_overrides_any_key(deployment, odoo_db):
    run = phase0(deployment, "--set", "thresholds.min_posted_payments=100000")
    assert run.status("0.1") == "FAIL"
    assert "<= 100000" in run.message("0.1")
