"""Every database item on the schema of each Odoo version (16, 17, 18, 19), both ways.

The generator builds each version's schema and data as Odoo (and its migration) leaves them; the suite
runs in a subprocess against a copy. On every version the healthy cycle passes and the log says which
version and layout it found; on every version each item fails on its fault, written the version's way;
each version's own faults fail the item that must catch them, naming the row; a layout deploylog does
not know is an ERROR naming what was expected, never a count.
"""

from __future__ import annotations

import json

import psycopg
import pytest

from deploylog.demo import generate
from deploylog.demo.simulate import upgrade_module
from selftests.support.suite import Deployment

VERSIONS = (16, 17, 18, 19)
PRE = ("P.6", "P.7", "0.1", "0.2", "0.3", "0.4")
POST = ("4.1", "4.5", "4.6", "4.7", "4.9", "5.1", "5.2", "5.3", "5.4")
ENTRY = "payments are journal entries (Odoo <=17)"
OWN = "payments with their own state, entry optional (Odoo 18+)"
STORED = "groups in categories, implied memberships stored (Odoo <=18)"
COMPUTED = "groups under privileges, implied memberships computed (Odoo 19+)"
HEADER = {
    16: f"Odoo 16.0 (base 16.0.1.3); {ENTRY}; {STORED}",
    17: f"Odoo 17.0 (base 17.0.1.3); {ENTRY}; {STORED}",
    18: f"Odoo 18.0 (base 18.0.1.3); {OWN}; {STORED}",
    19: f"Odoo 19.0 (base 19.0.1.3); {OWN}; {COMPUTED}",
}
# "posted payments" of each version, counted independently of deploylog's SQL
POSTED_SQL = {
    "entry": "SELECT count(*) FROM account_payment p JOIN account_move m ON m.id = p.move_id WHERE m.state = 'posted'",
    "own": "SELECT count(*) FROM account_payment WHERE state IN ('in_process', 'paid')",
}


def versioned(tmp_path, odoo_db_of, version):
    db = odoo_db_of(version)
    deployment = Deployment(tmp_path, db.name, db.dsn).configure(
        deployment={"expected_version": f"{version}.0.1.0.9", "previous_version": f"{version}.0.1.0.8"}
    )
    return deployment, db


def phase0(deployment, items=PRE):
    return deployment.run("-m", "preflight or phase0", "--items", ",".join(items))


def post(deployment, items=POST):
    return deployment.run("-m", "post", "--items", ",".join(items))


def deployed(deployment, db, version):
    before = phase0(deployment)
    assert before.statuses() == dict.fromkeys(PRE, "PASS"), before.output
    upgrade_module(db.dsn, f"{version}.0.1.0.9")
    return before


@pytest.mark.parametrize("version", VERSIONS)
def test_healthy_cycle_passes_on_every_version_and_says_which(tmp_path, odoo_db_of, version):
    deployment, db = versioned(tmp_path, odoo_db_of, version)
    before = deployed(deployment, db, version)
    assert before.log()["odoo"] == HEADER[version]
    assert f"Schema: {HEADER[version]}" in before.log()["items"]["P.7"]["evidence"]  # what P.7 checks follows the layout
    after = post(deployment)
    assert after.statuses() == {**dict.fromkeys(POST, "PASS"), "4.9": "NA"}, after.output
    assert after.message("4.9").startswith("NA: no checksums recorded: ir_config_parameter has no key module_auto_update")
    log = after.log()
    assert log["odoo"] == HEADER[version]
    assert f"**Odoo**: {HEADER[version]}  " in (deployment.report_dir / "execution-log.md").read_text()
    layout = "own" if version >= 18 else "entry"
    # payments counted from account_payment alone; posted as the version defines it, the states named
    baseline = json.loads(next((deployment.root / "baseline").glob("*.json")).read_text())
    assert baseline["figures"]["payments"] == db.scalar("SELECT count(*) FROM account_payment") == 400
    posted = before.log()["items"]["0.1"]["figures"]["payments"]["posted"]
    assert posted == db.scalar(POSTED_SQL[layout])
    assert baseline["odoo"] == {"version": f"{version}.0.1.3", "payments": layout}
    states = "in_process, paid" if version >= 18 else "posted"
    column = "account_payment.state" if version >= 18 else "account_move.state"
    evidence = before.log()["items"]["0.1"]["evidence"]
    assert f"Payments by state ({column}; posted = {states}): {posted} posted" in evidence
    for item in ("0.1", "4.5", "5.1", "5.4"):
        text = (before if item == "0.1" else after).log()["items"][item]["evidence"]
        assert f"Schema: Odoo {version}.0 (base {version}.0.1.3); Odoo {'18+' if version >= 18 else '<=17'} payment layout" in text
    members = log["items"]["4.6"]["evidence"]
    assert f"Schema: Odoo {version}.0 (base {version}.0.1.3); Odoo {'19+' if version >= 19 else '<=18'} group layout" in members
    assert log["items"]["4.6"]["message"] == "Payment Manager has 1 active member(s) (expected >= 1)"


def test_odoo_18_payments_fail_on_their_own_layout(tmp_path, odoo_db_of):
    """Deleting a payment that has no journal entry fails 5.1 (a JOIN to account_move never saw it); a
    payment's own state changing fails both fingerprints with equal counts."""
    deployment, db = versioned(tmp_path, odoo_db_of, 18)
    assert db.scalar("SELECT count(*) FROM account_payment WHERE move_id IS NULL") > 0
    deployed(deployment, db, 18)
    entryless = db.scalar("SELECT max(id) FROM account_payment WHERE move_id IS NULL AND state = 'in_process'")
    db.execute("DELETE FROM account_payment WHERE id = %s", (entryless,))
    paid = db.scalar("SELECT min(id) FROM account_payment WHERE state = 'paid' AND is_reconciled")
    db.execute("UPDATE account_payment SET state = 'in_process' WHERE id = %s", (paid,))
    run = post(deployment, ("5.1", "5.2", "5.3", "5.4"))
    assert run.statuses() == {"5.1": "FAIL", "5.2": "PASS", "5.3": "PASS", "5.4": "FAIL"}, run.output
    assert run.message("5.1") == (
        f"[5.1] MISMATCH: payments 400 -> 399 (-1); payments fingerprint changed: changed row id(s) {paid}; "
        f"removed row id(s) {entryless}"
    )
    # 5.4: both definitions are sets of their own; the module's holds the payment when a reconciliation line has its entry
    in_module = db.scalar(
        "SELECT EXISTS (SELECT 1 FROM account_bank_reconciliation_line l JOIN account_payment p ON p.move_id = l.move_id WHERE p.id = %s)",
        (paid,),
    )
    module = f"; reconciled_payments_module fingerprint changed: changed row id(s) {paid}" if in_module else ""
    assert run.message("5.4") == f"[5.4] MISMATCH: reconciled_payments fingerprint changed: changed row id(s) {paid}{module}"


def test_odoo_16_payment_deleted_fails_5_1_naming_it(tmp_path, odoo_db_of):
    """Odoo 16 reads as 17 does (payments are journal entries): a payment deleted after phase 0 fails 5.1."""
    deployment, db = versioned(tmp_path, odoo_db_of, 16)
    deployed(deployment, db, 16)
    victim = db.scalar("SELECT max(id) FROM account_payment WHERE NOT is_reconciled")
    db.execute("DELETE FROM account_payment WHERE id = %s", (victim,))
    run = post(deployment, ("5.1", "5.4"))
    assert run.statuses() == {"5.1": "FAIL", "5.4": "PASS"}, run.output
    assert run.message("5.1") == f"[5.1] MISMATCH: payments 400 -> 399 (-1); payments fingerprint changed: removed row id(s) {victim}"


@pytest.mark.parametrize(
    ("version", "status", "message"),
    [
        (19, "PASS", "Payment Manager has 1 active member(s), 1 through an implying group (expected >= 1)"),
        # Odoo <=18 writes implied memberships into res_groups_users_rel: without that row, no membership
        (17, "FAIL", "Payment Manager has 0 active member(s) (expected >= 1)"),
    ],
)
def test_members_through_implying_groups_count_where_odoo_computes_them(tmp_path, odoo_db_of, version, status, message):
    deployment, db = versioned(tmp_path, odoo_db_of, version)
    db.execute("DELETE FROM res_groups_users_rel WHERE gid = 16")
    # finance.manager is a Payment Director, which implies Payment Supervisor, which implies Payment Manager
    db.execute(
        """INSERT INTO res_groups (id, name) VALUES (30, '{"en_US": "Payment Director"}'), (31, '{"en_US": "Payment Supervisor"}')"""
    )
    db.execute("INSERT INTO res_groups_implied_rel (gid, hid) VALUES (30, 31), (31, 16)")
    db.execute("INSERT INTO res_groups_users_rel (gid, uid) VALUES (30, 3), (31, 7)")
    run = deployment.run("-m", "post", "--items", "4.6")
    assert run.status("4.6") == status, run.output
    assert run.log()["items"]["4.6"]["message"] == message
    if version == 19:
        assert "[finance.manager], 1 inactive" in run.log()["items"]["4.6"]["evidence"]


# --- every item fails on its fault on every version ----------------------------------------------
# One run per phase with one fault per item (the faults touch different rows, so each item has its own
# cause); where the SQL depends on the layout, the fault is written the version's way and chosen so that
# the other layout's SQL would miss it (a payment without a journal entry, a payment's own state).
RECENT = "create_date >= (now() AT TIME ZONE 'UTC') - interval '30 days'"
POSTED_PAYMENTS = {
    "entry": "SELECT p.id FROM account_payment p JOIN account_move m ON m.id = p.move_id WHERE m.state = 'posted'",
    # posted on 18+: the payment's own state, here on payments that have no journal entry at all
    "own": "SELECT id FROM account_payment WHERE state IN ('in_process', 'paid') AND move_id IS NULL",
}
PHASE0_FAULTS = {
    "P.6": ("DELETE FROM res_groups_users_rel WHERE gid = 16", "Payment Manager has 0 active member(s) (expected >= 1)"),
    "0.1": (
        {
            "entry": "UPDATE account_move SET state = 'draft' WHERE id IN (SELECT move_id FROM account_payment)",
            # the entries stay posted: only the payments' own state says they are not
            "own": "UPDATE account_payment SET state = 'draft'",
        },
        "posted payments 0 <= 100",
    ),
    "0.2": (
        "INSERT INTO account_bank_reconciliation_line (reconciliation_id, move_id, amount) VALUES (1, NULL, 10)",
        "1 orphaned line(s)",
    ),
    "0.3": (
        "UPDATE ir_module_module SET state = 'uninstalled' WHERE name = 'payment_account_enhanced'",
        "module 'payment_account_enhanced' ([deployment] module) is 'uninstalled' in ir_module_module",
    ),
    "0.4": (
        "DELETE FROM ir_model_data WHERE module = 'payment_account_enhanced' AND name = 'group_payment_reviewer'",
        "group payment_account_enhanced.group_payment_reviewer does not exist",
    ),
}
POST_FAULTS = {
    "4.1": ("UPDATE ir_module_module SET state = 'to upgrade' WHERE name = 'payment_account_enhanced'", "state is 'to upgrade'"),
    "4.5": (
        {
            layout: f"UPDATE account_payment SET approval_state = 'under_review' WHERE id = (SELECT max(id) FROM ({posted}) s "
            f"WHERE id IN (SELECT id FROM account_payment WHERE {RECENT}))"
            for layout, posted in POSTED_PAYMENTS.items()
        },
        "1 posted entries whose approval_state is not 'posted'",
    ),
    "4.6": ("DELETE FROM res_groups_users_rel WHERE gid = 16", "Payment Manager has 0 active member(s) (expected >= 1)"),
    "4.7": ("UPDATE account_bank_reconciliation_line SET move_id = NULL WHERE id = 5", "ORPHANS FOUND: 1 (1 without move"),
    "4.9": (
        "INSERT INTO ir_config_parameter (key, value) VALUES ('module_auto_update.installed_checksums', "
        '\'{"payment_account_enhanced": "0000000000000000000000000000000000000000"}\')',
        "payment_account_enhanced: code on disk hashes to ",
    ),
    "5.1": (
        {
            "entry": "DELETE FROM account_payment WHERE id = (SELECT max(id) FROM account_payment WHERE NOT is_reconciled)",
            "own": "DELETE FROM account_payment WHERE id = (SELECT max(id) FROM account_payment WHERE move_id IS NULL)",
        },
        "payments 400 -> 399 (-1)",
    ),
    "5.2": (
        "UPDATE account_move SET state = 'draft' WHERE id = (SELECT min(id) FROM account_move "
        "WHERE state = 'posted' AND move_type = 'out_invoice')",
        "posted_invoices",
    ),
    "5.3": ("DELETE FROM account_bank_reconciliation_line WHERE id = 7", "reconciliation_lines 120 -> 119 (-1)"),
    "5.4": (
        {
            "entry": "UPDATE account_payment SET is_reconciled = false WHERE id = (SELECT min(id) FROM account_payment WHERE is_reconciled)",
            # equal counts: only the payment's own state, in the fingerprint, changed
            "own": "UPDATE account_payment SET state = 'in_process' WHERE id = (SELECT min(id) FROM account_payment "
            "WHERE state = 'paid' AND is_reconciled)",
        },
        "reconciled_payments",
    ),
}


def inject(db, faults, version):
    layout = "own" if version >= 18 else "entry"
    for statement, _ in faults.values():
        changed = db.execute((statement[layout] if isinstance(statement, dict) else statement) + " RETURNING 1")
        assert changed, statement  # every fault hits a row


@pytest.mark.parametrize("version", VERSIONS)
def test_every_phase0_item_fails_on_its_fault_on_every_version(tmp_path, odoo_db_of, version):
    deployment, db = versioned(tmp_path, odoo_db_of, version)
    inject(db, PHASE0_FAULTS, version)
    run = phase0(deployment)
    assert run.statuses() == {**dict.fromkeys(PHASE0_FAULTS, "FAIL"), "P.7": "PASS"}, run.output
    for item, (_, message) in PHASE0_FAULTS.items():
        assert message in run.message(item), run.message(item)


@pytest.mark.parametrize("version", VERSIONS)
def test_every_post_item_fails_on_its_fault_on_every_version(tmp_path, odoo_db_of, version):
    deployment, db = versioned(tmp_path, odoo_db_of, version)
    deployed(deployment, db, version)
    inject(db, POST_FAULTS, version)
    run = post(deployment)
    assert run.statuses() == dict.fromkeys(POST, "FAIL"), run.output
    for item, (_, message) in POST_FAULTS.items():
        assert message in run.message(item), run.message(item)


EXPECTS_18 = (
    "Odoo 18+ expects account_payment.state, account_payment.name, account_payment.date, account_payment.move_id, "
    "account_move.origin_payment_id: deploylog counts nothing on a layout it does not know"
)
UNKNOWN_LAYOUTS = {
    "payment state moved (19)": (
        19,
        "ALTER TABLE account_payment RENAME COLUMN state TO payment_state",
        "0.1",
        f"unknown payment layout on Odoo 19.0 (base 19.0.1.3): account_payment.state missing; {EXPECTS_18}",
    ),
    "payment entry link moved (17)": (
        17,
        "ALTER TABLE account_payment RENAME COLUMN move_id TO entry_id",
        "0.1",
        "unknown payment layout on Odoo 17.0 (base 17.0.1.3): account_payment has neither state (Odoo 18+) nor "
        "move_id->account_move.state (Odoo <=17); Odoo <=17 expects account_payment.move_id, account_move.state, "
        "account_move.name, account_move.date, account_move.payment_id",
    ),
    "an Odoo 18 layout claiming 17": (
        18,
        "UPDATE ir_module_module SET latest_version = '17.0.1.3' WHERE name = 'base'",
        "0.1",
        "unknown payment layout on Odoo 17.0 (base 17.0.1.3): account_move.payment_id missing; Odoo <=17 expects",
    ),
    "group privilege moved (19)": (
        19,
        "ALTER TABLE res_groups RENAME COLUMN privilege_id TO role_id",
        "0.4",
        "unknown group layout on Odoo 19.0 (base 19.0.1.3): res_groups has neither privilege_id (Odoo 19+) nor "
        "category_id (Odoo <=18); Odoo 19+ expects res_groups.privilege_id, res_groups_privilege.id",
    ),
    "a release it does not know": (
        19,
        "UPDATE ir_module_module SET latest_version = '20.0.1.0' WHERE name = 'base'",
        "0.1",
        "base module latest_version '20.0.1.0' is not a release deploylog knows (Odoo 16, 17, 18, 19): its payments and "
        "groups layout is unknown, nothing is counted on it",
    ),
}


@pytest.mark.parametrize("fault", UNKNOWN_LAYOUTS)
def test_a_layout_deploylog_does_not_know_is_an_error_naming_what_was_expected(tmp_path, odoo_db_of, fault):
    version, statement, item, message = UNKNOWN_LAYOUTS[fault]
    deployment, db = versioned(tmp_path, odoo_db_of, version)
    db.execute(statement)
    run = phase0(deployment, ("P.7", "0.1", "0.2", "0.3", "0.4"))
    assert run.status(item) == "ERROR", run.output
    assert run.message(item).startswith(message), run.message(item)
    assert run.status("P.7") == "FAIL"  # said a day ahead
    assert message in run.message("P.7"), run.message("P.7")
    # no baseline is written on an unknown payment layout (the groups are not in the baseline)
    assert run.status("0.3") == ("ERROR" if item == "0.1" else "PASS")
    assert run.status("0.2") == "PASS"  # what does not depend on the layout still runs
    assert "NOT DETECTED" in run.log()["odoo"]


def test_a_baseline_from_another_payment_layout_is_not_compared(tmp_path, odoo_db_of):
    """Phase 0 on Odoo 17, then the database migrated to 18 (not a module deployment): 5.1 refuses to diff."""
    deployment, db = versioned(tmp_path, odoo_db_of, 17)
    deployed(deployment, db, 17)
    with psycopg.connect(db.dsn, autocommit=True) as conn:
        for statement in generate._statements("schema_18.sql"):
            conn.execute(statement)
        conn.execute("UPDATE ir_module_module SET latest_version = '18.0.1.3' WHERE name = 'base'")
    run = post(deployment, ("5.1", "5.2"))
    assert run.status("5.1") == "ERROR", run.output
    assert run.message("5.1").startswith(
        "[5.1] the baseline was taken on Odoo base 17.0.1.3 (payment layout 'entry'), the database now runs base 18.0.1.3 "
        "(payment layout 'own'): its payment figures and fingerprints are not comparable"
    )
    assert run.status("5.2") == "PASS"


# --- the generated schemas themselves -------------------------------------------------------------

# (table, column) -> per version: (data type, nullable) or None when the column does not exist
COLUMNS = {
    ("account_payment", "move_id"): {16: ("integer", "NO"), 17: ("integer", "NO"), 18: ("integer", "YES"), 19: ("integer", "YES")},
    ("account_payment", "state"): {16: None, 17: None, 18: ("character varying", "NO"), 19: ("character varying", "NO")},
    ("account_payment", "name"): {16: None, 17: None, 18: ("character varying", "YES"), 19: ("character varying", "YES")},
    ("account_payment", "date"): {16: None, 17: None, 18: ("date", "NO"), 19: ("date", "NO")},
    ("account_payment", "memo"): {16: None, 17: None, 18: ("character varying", "YES"), 19: ("character varying", "YES")},
    ("account_payment", "journal_id"): {16: None, 17: None, 18: ("integer", "NO"), 19: ("integer", "NO")},
    ("account_payment", "is_internal_transfer"): {16: ("boolean", "YES"), 17: ("boolean", "YES"), 18: None, 19: None},
    ("account_payment", "amount"): dict.fromkeys(VERSIONS, ("numeric", "YES")),
    ("account_payment", "payment_type"): dict.fromkeys(VERSIONS, ("character varying", "NO")),
    ("account_payment", "is_reconciled"): dict.fromkeys(VERSIONS, ("boolean", "YES")),
    ("account_move", "state"): dict.fromkeys(VERSIONS, ("character varying", "NO")),
    ("account_move", "date"): dict.fromkeys(VERSIONS, ("date", "NO")),
    ("account_move", "payment_id"): {16: ("integer", "YES"), 17: ("integer", "YES"), 18: None, 19: None},
    ("account_move", "origin_payment_id"): {16: None, 17: None, 18: ("integer", "YES"), 19: ("integer", "YES")},
    ("account_move", "to_check"): {16: ("boolean", "YES"), 17: ("boolean", "YES"), 18: None, 19: None},
    ("account_move", "checked"): {16: None, 17: None, 18: ("boolean", "YES"), 19: ("boolean", "YES")},
    ("res_groups", "name"): dict.fromkeys(VERSIONS, ("jsonb", "NO")),
    ("res_groups", "category_id"): {16: ("integer", "YES"), 17: ("integer", "YES"), 18: ("integer", "YES"), 19: None},
    ("res_groups", "color"): {16: ("integer", "YES"), 17: ("integer", "YES"), 18: ("integer", "YES"), 19: None},
    ("res_groups", "privilege_id"): {16: None, 17: None, 18: None, 19: ("integer", "YES")},
    ("res_groups_privilege", "name"): {16: None, 17: None, 18: None, 19: ("jsonb", "NO")},
    ("res_groups_users_rel", "uid"): dict.fromkeys(VERSIONS, ("integer", "NO")),
    ("res_groups_implied_rel", "hid"): dict.fromkeys(VERSIONS, ("integer", "NO")),
    ("ir_module_module", "latest_version"): dict.fromkeys(VERSIONS, ("character varying", "YES")),
    ("ir_config_parameter", "value"): dict.fromkeys(VERSIONS, ("text", "NO")),
    ("res_lang", "code"): dict.fromkeys(VERSIONS, ("character varying", "NO")),
    ("account_full_reconcile", "name"): {16: ("character varying", "NO"), 17: None, 18: None, 19: None},
}


@pytest.mark.parametrize("version", VERSIONS)
def test_generated_schema_is_the_versions(odoo_db_of, version):
    db = odoo_db_of(version)
    found = {
        (t, c): (kind, nullable)
        for t, c, kind, nullable in db.execute(
            "SELECT table_name, column_name, data_type, is_nullable FROM information_schema.columns WHERE table_schema = 'public'"
        )
    }
    assert {key: found.get(key) for key in COLUMNS} == {key: per[version] for key, per in COLUMNS.items()}
    assert db.scalar("SELECT latest_version FROM ir_module_module WHERE name = 'base'") == f"{version}.0.1.3"
    entryless = db.scalar("SELECT count(*) FROM account_payment WHERE move_id IS NULL")
    assert (entryless > 0) == (version >= 18)
    # finance.manager (uid 3) is a direct Payment Manager (16), which implies Payment Poster (15)
    implied_row = db.scalar("SELECT count(*) FROM res_groups_users_rel WHERE uid = 3 AND gid = 15")
    assert implied_row == (0 if version >= 19 else 1)
