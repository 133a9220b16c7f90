"""[[protect]] of deploy.toml against a real PostgreSQL database, through the real suite: sets of one's own
(the `table` form and the `query` form, with sub-counts) both ways, naming the row that changed; a set whose SQL
fails names its entry; an optional set whose table is absent is N/A, a required one an error naming it; a
baseline of the earlier format, or of another PostgreSQL major version, is refused; the fallback digest for
servers older than PostgreSQL 14; a deploy.toml whose sets cannot run stops before anything runs."""

from __future__ import annotations

import dataclasses
import json

import pytest

from deploylog import baseline as baseline_mod
from deploylog import db, fingerprint, protect
from deploylog import spec as spec_mod
from deploylog.demo.simulate import upgrade_module
from deploylog.errors import DeploylogError

SHIPPED = ("5.1", "5.2", "5.3", "5.4")
# a table of Odoo's own, with sub-counts over its columns
PARTNERS = {
    "name": "partners",
    "item": "5.5",
    "title": "Partners unchanged",
    "table": "res_partner",
    "columns": ["name", "email", "is_company", "active"],
    "counts": {"companies": "is_company", "archived": "NOT active"},
}
# a query with a parameter, on the journal items of payments
PAYMENT_LINES = {
    "name": "payment_lines",
    "item": "5.6",
    "title": "Journal items of payments",
    "severity": "critical",
    "query": """SELECT l.id, l.move_id, l.account_id, l.debit, l.credit, l.reconciled
                FROM account_move_line l WHERE l.payment_id IS NOT NULL AND l.parent_state = %(state)s""",
    "params": {"state": "posted"},
    "counts": {"reconciled": "reconciled", "debits": "debit > 0"},
}


def with_sets(deployment, *sets: dict) -> None:
    """The shipped sets (5.1-5.4) and these."""
    deployment.configure(protect=[*deployment.config["protect"], *sets])


def phase0(deployment):
    return deployment.run("-m", "phase0", "--items", "0.3")


def post(deployment, items):
    return deployment.run("-m", "post", "--items", ",".join(items))


def baseline_file(deployment):
    return next(p for p in (deployment.root / "baseline").glob("*.json") if ".superseded-" not in p.name)


def test_sets_of_ones_own_both_ways_naming_the_row(deployment, odoo_db):
    with_sets(deployment, PARTNERS, PAYMENT_LINES)
    assert phase0(deployment).status("0.3") == "PASS"
    data = json.loads(baseline_file(deployment).read_text())
    assert data["figures"]["partners"] == odoo_db.scalar("SELECT count(*) FROM res_partner")
    assert data["figures"]["partners.companies"] == odoo_db.scalar("SELECT count(*) FROM res_partner WHERE is_company")
    lines_sql = "FROM account_move_line WHERE payment_id IS NOT NULL AND parent_state = 'posted'"
    assert data["figures"]["payment_lines"] == odoo_db.scalar(f"SELECT count(*) {lines_sql}")
    assert data["figures"]["payment_lines.reconciled"] == odoo_db.scalar(f"SELECT count(*) {lines_sql} AND reconciled")
    assert (deployment.root / "baseline" / f"{baseline_file(deployment).stem}.rows" / "payment_lines.tsv").exists()
    upgrade_module(odoo_db.dsn, "17.0.1.0.9")

    healthy = post(deployment, (*SHIPPED, "5.5", "5.6"))
    assert healthy.statuses() == dict.fromkeys((*SHIPPED, "5.5", "5.6"), "PASS"), healthy.output
    item = healthy.log()["items"]["5.6"]
    assert (item["title"], item["severity"]) == ("Journal items of payments", "critical")
    assert item["message"].startswith("MATCH: payment_lines ") and item["message"].endswith(" unchanged, fingerprint identical")
    assert any("l.parent_state = 'posted'" in q and "hash_record_extended" in q for q in item["queries"]), item["queries"]

    partner = odoo_db.scalar("SELECT min(id) FROM res_partner WHERE NOT is_company")
    odoo_db.execute("UPDATE res_partner SET is_company = true WHERE id = %s", (partner,))
    line = odoo_db.scalar(f"SELECT min(id) {lines_sql} AND reconciled")
    odoo_db.execute("UPDATE account_move_line SET reconciled = false WHERE id = %s", (line,))
    gone = odoo_db.scalar(f"SELECT max(id) {lines_sql} AND NOT reconciled AND id <> %s", (line,))
    odoo_db.execute("UPDATE account_move_line SET parent_state = 'cancel' WHERE id = %s", (gone,))
    faulty = post(deployment, (*SHIPPED, "5.5", "5.6"))
    assert faulty.statuses() == {**dict.fromkeys(SHIPPED, "PASS"), "5.5": "FAIL", "5.6": "FAIL"}, faulty.output
    companies = data["figures"]["partners.companies"]
    assert faulty.message("5.5") == (
        f"[5.5] MISMATCH: partners.companies {companies} -> {companies + 1} (+1); "
        f"partners fingerprint changed: changed row id(s) {partner}"
    )
    total, reconciled = data["figures"]["payment_lines"], data["figures"]["payment_lines.reconciled"]
    message = faulty.message("5.6")
    assert f"payment_lines {total} -> {total - 1} (-1)" in message
    assert f"payment_lines.reconciled {reconciled} -> {reconciled - 1} (-1)" in message
    assert f"payment_lines fingerprint changed: changed row id(s) {line}; removed row id(s) {gone}" in message
    assert faulty.log()["verdict"]["decision"] == "ROLLBACK"  # 5.6 is critical


def test_a_set_whose_sql_fails_names_its_entry(deployment, odoo_db):
    broken = {"name": "broken", "item": "5.5", "title": "Broken", "query": "SELECT p.id, p.no_such_column FROM account_payment p"}
    with_sets(deployment, broken)
    ahead = deployment.run("-m", "preflight", "--items", "P.7")  # a day ahead: the query is planned, nothing read
    assert ahead.status("P.7") == "FAIL", ahead.output
    assert "database error while reading [[protect]] broken (plan): SQLSTATE 42703" in ahead.log()["items"]["P.7"]["message"]
    run = phase0(deployment)
    assert run.status("0.3") == "ERROR", run.output
    assert "[[protect]] broken" in run.message("0.3") and "no_such_column" in run.message("0.3")
    assert not list((deployment.root / "baseline").glob("*.json"))

    # fine at phase 0; the column it hashes is gone after the deployment
    refs = {"name": "partner_refs", "item": "5.5", "title": "Partner references", "query": "SELECT id, ref FROM res_partner"}
    deployment.configure(protect=[*deployment.config["protect"][:-1], refs])
    assert phase0(deployment).status("0.3") == "PASS"
    odoo_db.execute("ALTER TABLE res_partner DROP COLUMN ref")
    after = post(deployment, ("5.1", "5.5"))
    assert after.statuses() == {"5.1": "PASS", "5.5": "ERROR"}, after.output
    assert "[[protect]] partner_refs" in after.message("5.5") and '"ref" does not exist' in after.message("5.5")
    assert "Traceback" not in after.output


def test_an_optional_set_whose_table_is_absent_is_na_and_a_required_one_an_error(deployment, odoo_db):
    as_table = {"name": "cards", "item": "5.5", "title": "Loyalty cards", "table": "x_loyalty_card", "columns": ["points"]}
    as_query = {"name": "card_points", "item": "5.6", "title": "Card points", "query": "SELECT c.id, c.points FROM x_loyalty_card c"}
    with_sets(deployment, as_query)
    required = phase0(deployment)
    assert required.status("0.3") == "ERROR", required.output
    assert required.log()["items"]["0.3"]["message"] == (
        "[[protect]] card_points: table x_loyalty_card does not exist in this database: name a table this database has, "
        "or set optional = true in the entry if the set may be absent here"
    )

    deployment.configure(protect=[*deployment.config["protect"][:-1], {**as_table, "optional": True}, {**as_query, "optional": True}])
    assert phase0(deployment).status("0.3") == "PASS"
    run = post(deployment, ("5.5", "5.6"))
    assert run.statuses() == {"5.5": "NA", "5.6": "NA"}, run.output
    assert run.message("5.5") == "NA: table x_loyalty_card does not exist in this database ([[protect]] cards is optional = true)"
    assert (
        run.message("5.6") == "NA: table x_loyalty_card does not exist in this database ([[protect]] card_points is optional = true)"
    )


def test_a_table_gone_after_the_deployment_fails_its_item(deployment, odoo_db):
    """Present at phase 0, absent after: the rows are lost, whatever `optional` says."""
    odoo_db.execute("CREATE TABLE x_loyalty_card (id serial PRIMARY KEY, points integer)")
    odoo_db.execute("INSERT INTO x_loyalty_card (points) SELECT g FROM generate_series(1, 30) g")
    cards = {"name": "cards", "item": "5.5", "title": "Loyalty cards", "table": "x_loyalty_card", "columns": ["points"]}
    with_sets(deployment, cards, {**cards, "name": "cards_optional", "item": "5.6", "title": "Cards (optional)", "optional": True})
    assert phase0(deployment).status("0.3") == "PASS"
    odoo_db.execute("DROP TABLE x_loyalty_card")
    run = post(deployment, ("5.5", "5.6"))
    assert run.statuses() == {"5.5": "FAIL", "5.6": "FAIL"}, run.output
    assert run.message("5.5").startswith("[5.5] MISMATCH: cards: at phase 0 30 rows, now unreadable")
    assert run.message("5.6") == (
        "[5.6] MISMATCH: cards_optional: at phase 0 30 rows, now absent (table x_loyalty_card does not exist in this "
        "database ([[protect]] cards_optional is optional = true)) (cannot compare)"
    )


def test_a_set_edited_or_added_after_phase_0_is_not_compared(deployment, odoo_db):
    with_sets(deployment, PARTNERS)
    assert phase0(deployment).status("0.3") == "PASS"
    deployment.configure(
        protect=[*deployment.config["protect"][:-1], {**PARTNERS, "columns": ["name"]}, {**PARTNERS, "name": "more", "item": "5.6"}]
    )
    run = post(deployment, ("5.1", "5.5", "5.6"))
    assert run.statuses() == {"5.1": "PASS", "5.5": "ERROR", "5.6": "ERROR"}, run.output
    items = run.log()["items"]
    assert "[[protect]] partners: the set's definition differs from the one phase 0 fingerprinted" in items["5.5"]["message"]
    assert "At phase 0:" in items["5.5"]["evidence"] and '"is_company"' in items["5.5"]["evidence"]
    assert "the baseline holds no fingerprint of [[protect]] more (declared after phase 0)" in items["5.6"]["message"]
    assert "pytest -m phase0 --recapture-baseline" in items["5.6"]["message"]


def rewrite_baseline(deployment, change) -> None:
    path = baseline_file(deployment)
    data = json.loads(path.read_text())
    change(data)
    data["digest"] = baseline_mod.canonical_digest(data)
    path.write_text(json.dumps(data))


def test_a_baseline_of_the_earlier_format_is_refused_with_the_recapture_command(deployment, odoo_db):
    assert phase0(deployment).status("0.3") == "PASS"
    rewrite_baseline(deployment, lambda data: data.update(format=2))
    again = phase0(deployment)
    assert again.status("0.3") == "FAIL" and "is format 2" in again.log()["items"]["0.3"]["message"]
    assert deployment.run("-m", "phase0", "--items", "0.3", "--recapture-baseline").status("0.3") == "PASS"
    rewrite_baseline(deployment, lambda data: data.update(format=2))
    run = post(deployment, ("5.1", "5.4"))
    for item in ("5.1", "5.4"):
        assert run.status(item) == "ERROR", run.output
        message = run.log()["items"][item]["message"]
        assert "is format 2 (an earlier deploylog's md5 fingerprints of built-in sets), not comparable with format 3" in message
        assert "recapture it with `pytest -m phase0 --recapture-baseline`" in message


def test_a_baseline_of_another_postgresql_major_is_refused(deployment, odoo_db):
    assert phase0(deployment).status("0.3") == "PASS"
    major = odoo_db.scalar("SELECT current_setting('server_version_num')::int / 10000")
    rewrite_baseline(deployment, lambda data: data["fingerprint"].update(server_major=major - 1))
    run = post(deployment, ("5.1", "5.4"))
    for item in ("5.1", "5.4"):  # tied to the identity check: nothing is compared with that baseline
        assert run.status(item) == "ERROR", run.output
        assert (
            f"computed with hash_record_extended+bit_xor on PostgreSQL {major - 1}, this server runs PostgreSQL {major}: "
            "that hash is stable within one major version only"
        ) in run.log()["items"][item]["message"]


def test_the_fallback_digest_of_older_servers_names_the_rows_too(odoo_db, tmp_path):
    """PostgreSQL < 14 has no hash_record_extended: the md5 digest, on the same sets, narrows a change to its row."""
    shipped = spec_mod.load(spec_mod.Path(__file__).resolve().parents[1] / "deploy.toml")
    spec = dataclasses.replace(shipped, database=dataclasses.replace(shipped.database, name=odoo_db.name, dsn=odoo_db.dsn))
    payments = next(e for e in spec.protect if e.name == "payments")
    snap = db.open_snapshot(spec)
    try:
        assert fingerprint.method_for(snap) is fingerprint.XOR  # this server: PostgreSQL 14+
        found = fingerprint.export_rows(snap, spec, payments, fingerprint.MD5, tmp_path / "payments.tsv")
        assert not isinstance(found, fingerprint.Absent)
        before, _ = found
        assert before.count == odoo_db.scalar("SELECT count(*) FROM account_payment")
        assert "md5(string_agg(r.h, '' ORDER BY r.id))" in before.query
    finally:
        snap.close()
    victim = odoo_db.scalar("SELECT min(id) FROM account_payment")
    odoo_db.execute("UPDATE account_payment SET amount = amount + 1 WHERE id = %s", (victim,))
    snap = db.open_snapshot(spec)
    try:
        changes = fingerprint.diff(snap, spec, payments, fingerprint.MD5, before.as_dict(), tmp_path / "payments.tsv")
        assert changes is not None and (changes.changed, changes.added, changes.removed) == ([victim], [], [])
    finally:
        snap.close()


def test_a_column_without_a_hash_function_is_an_error_saying_to_cast_it(odoo_db):
    shipped = spec_mod.load(spec_mod.Path(__file__).resolve().parents[1] / "deploy.toml")
    entry = spec_mod.Protect(
        name="payloads", item="5.5", title="Payloads", query="SELECT id, json_build_object('n', name) FROM res_partner"
    )
    spec = dataclasses.replace(
        shipped, database=dataclasses.replace(shipped.database, name=odoo_db.name, dsn=odoo_db.dsn), protect=(entry,)
    )
    snap = db.open_snapshot(spec)
    try:
        with pytest.raises(DeploylogError) as caught:
            fingerprint.compute(snap, spec, entry, fingerprint.XOR)
        assert str(caught.value) == (
            "[[protect]] payloads: a column of type json cannot be hashed (PostgreSQL has no hash function for it): "
            "cast it in the set's SQL, e.g. column::text"
        )
        assert snap.scalar("SELECT 1") == 1  # the snapshot goes on
    finally:
        snap.close()


def test_sets_group_by_item_in_the_logs_order():
    spec = spec_mod.load(spec_mod.Path(__file__).resolve().parents[1] / "deploy.toml")
    grouped = protect.items(spec)
    assert list(grouped) == ["5.1", "5.2", "5.3", "5.4"]
    assert [e.name for e in grouped["5.4"]] == ["reconciled_payments", "reconciled_payments_module"]
    assert protect.definitions(spec)["5.4"].severity == "critical"


# --- a deploy.toml whose sets cannot run -------------------------------------------------------------


def entry(**more) -> dict:
    return {"name": "mine", "item": "5.5", "title": "Mine", "table": "res_partner", "columns": ["name"], **more}


INVALID = {
    "an unknown key": (entry(colums=["x"]), "unknown key 'protect[0].colums' (did you mean 'columns'?)"),
    "an unknown fragment": (
        entry(where="t.id IN (SELECT p.partner_id FROM {paymnets})"),
        "protect[0].where: unknown fragment {paymnets} (did you mean {payments}?)",
    ),
    "a lone brace": (entry(where="t.name = '{'"), "protect[0].where: a lone '{' at character 11: write a literal brace as {{"),
    "a parameter nothing defines": (
        entry(where="t.name = %(who)s"),
        "protect[0].where uses %(who)s, which neither protect[0].params nor the deployment defines",
    ),
    "both forms": (
        entry(query="SELECT id FROM res_partner"),
        "protect[0]: give the rows as table (with columns) or as query, not both",
    ),
    "neither form": (
        {"name": "mine", "item": "5.5", "title": "Mine"},
        "protect[0]: give the rows as table (with columns) or as query, one of them",
    ),
    "columns with a query": (
        {"name": "mine", "item": "5.5", "title": "Mine", "query": "SELECT id FROM res_partner", "columns": ["name"]},
        "protect[0].columns: only with table (a query hashes its own columns)",
    ),
    "an item of another phase": (entry(item="4.50"), "protect[0].item: a protected set feeds a phase-5 item (5.<n>), not '4.50'"),
    "a built-in item": (entry(item="4.1"), "protect[0].item: item 4.1 is a built-in item ('Module Loaded')"),
    "a bad name": (entry(name="My Set"), "protect[0].name: 'My Set' is not [a-z][a-z0-9_]*"),
    "an item defined twice differently": (
        [entry(), entry(name="other", title="Other")],
        "protect[1].item: item 5.5 is defined twice, differently: 'Mine' (deploy.toml [[protect]]) and 'Other'",
    ),
    "a bad count": (entry(counts={"Big Ones": "true"}), "protect[0].counts.Big Ones: a count's name is [a-z][a-z0-9_]*"),
    "a table that is no name": (entry(table="res_partner p"), "protect[0].table: 'res_partner p' is not a table name"),
}


@pytest.mark.parametrize("case", INVALID)
def test_sets_that_cannot_run_are_refused_before_anything_runs(case):
    entries, problem = INVALID[case]
    raw = {"deployment": {"module": "m", "expected_version": "1"}, "database": {"name": "d"}}
    raw["protect"] = entries if isinstance(entries, list) else [entries]
    with pytest.raises(spec_mod.SpecError) as caught:
        spec_mod.build(raw)
    assert problem in str(caught.value)


def test_an_invalid_set_stops_the_run_with_one_line(deployment):
    with_sets(deployment, entry(where="t.id IN (SELECT p.partner_id FROM {paymnets})"))
    run = deployment.run("-m", "phase0")
    assert run.returncode == 4
    lines = [line for line in run.output.splitlines() if "deploylog: configuration error" in line]
    assert len(lines) == 1 and "unknown fragment {paymnets} (did you mean {payments}?)" in lines[0], run.output
    assert not deployment.report_dir.exists()
