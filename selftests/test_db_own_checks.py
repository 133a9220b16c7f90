"""[[checks]] of deploy.toml and tests of one's own against a real PostgreSQL database: every kind of
expectation both ways, `== baseline` both ways, a query that fails (ERROR naming the check and the
database's line), a query that tries to write (refused: the snapshot is read-only), and a deploy.toml
whose checks cannot run (one line, exit 4, nothing run)."""

from __future__ import annotations

import pytest

from deploylog import spec as spec_mod
from deploylog.demo.simulate import upgrade_module

ACTIVE_USERS = "SELECT count(*) FROM res_users WHERE active"


def check(item: str, expect: str, sql: str = ACTIVE_USERS, **more) -> dict:
    return {"item": item, "title": f"check {item}", "sql": sql, "expect": expect, **more}


def expectations(users: int, inactive: int) -> list[tuple[dict, str, str]]:
    """(check, status, message): each kind of expectation once holding, once not."""
    u = users
    module_state = {"sql": "SELECT state FROM ir_module_module WHERE name = %(name)s", "params": {"name": "account"}}
    return [
        (check("4.30", f"== {u}"), "PASS", f"returned {u}: == {u} holds"),
        (check("4.31", f"== {u + 1}"), "FAIL", f"returned {u}, expected == {u + 1}"),
        (check("4.32", f"!= {u + 1}"), "PASS", f"returned {u}: != {u + 1} holds"),
        (check("4.33", f"!= {u}"), "FAIL", f"returned {u}, expected != {u}"),
        (check("4.34", f"> {u - 1}"), "PASS", f"returned {u}: > {u - 1} holds"),
        (check("4.35", f"> {u}"), "FAIL", f"returned {u}, expected > {u}"),
        (check("4.36", f">= {u}"), "PASS", f"returned {u}: >= {u} holds"),
        (check("4.37", f">= {u + 1}"), "FAIL", f"returned {u}, expected >= {u + 1}"),
        (check("4.38", f"< {u + 1}"), "PASS", f"returned {u}: < {u + 1} holds"),
        (check("4.39", f"< {u}"), "FAIL", f"returned {u}, expected < {u}"),
        (check("4.40", f"<= {u}"), "PASS", f"returned {u}: <= {u} holds"),
        (check("4.41", f"<= {u - 1}"), "FAIL", f"returned {u}, expected <= {u - 1}"),
        (check("4.42", f"between {u - 1} and {u}"), "PASS", f"returned {u}: between {u - 1} and {u} holds"),
        (check("4.43", f"between {u + 1} and {u + 5}"), "FAIL", f"returned {u}, expected between {u + 1} and {u + 5}"),
        (check("4.44", "== 'installed'", **module_state), "PASS", "returned installed: == 'installed' holds"),
        (check("4.45", "!= 'installed'", **module_state), "FAIL", "returned installed, expected != 'installed'"),
        (check("4.46", "== true", "SELECT active FROM res_users WHERE login = 'admin'"), "PASS", "returned true: == true holds"),
        (check("4.47", "== false", "SELECT active FROM res_users WHERE login = 'admin'"), "FAIL", "returned true, expected == false"),
        (check("4.48", "== 0.5", "SELECT 0.5::numeric"), "PASS", "returned 0.5: == 0.5 holds"),
        (
            check("4.49", "> 100", "SELECT sum(amount) FROM account_payment WHERE false"),
            "FAIL",
            "returned NULL, expected > 100: the query returned NULL",
        ),
        (
            check("4.50", f"== {inactive}", "SELECT login FROM res_users WHERE NOT active ORDER BY login", returns="rows"),
            "PASS",
            f"{inactive} row(s): == {inactive} holds",
        ),
        (
            check("4.51", "== 0", "SELECT login FROM res_users WHERE NOT active ORDER BY login", returns="rows"),
            "FAIL",
            f"{inactive} row(s), expected == 0",
        ),
        (
            check("4.52", "> 1", "SELECT 'x'::text"),
            "FAIL",
            "returned x, expected > 1: x cannot be compared with '> 1' (str and Decimal)",
        ),
    ]


def test_each_expectation_both_ways(deployment, odoo_db):
    users = odoo_db.scalar(ACTIVE_USERS)
    inactive = odoo_db.scalar("SELECT count(*) FROM res_users WHERE NOT active")
    cases = expectations(users, inactive)
    deployment.configure(checks=[c for c, _, _ in cases])
    run = deployment.run("--items", ",".join(c["item"] for c, _, _ in cases))
    assert run.statuses() == {c["item"]: status for c, status, _ in cases}, run.output
    for c, status, message in cases:
        prefix = f"[{c['item']}] " if status == "FAIL" else ""
        assert run.message(c["item"]) == (prefix + message if status == "FAIL" else ""), c
        assert run.log()["items"][c["item"]]["message"] == message
    log = run.log()["items"]
    assert log["4.30"]["results"][0]["evidence"] == f"value: {users}\nexpected: value == {users}"
    assert log["4.30"]["figures"] == {"kind": "counts", "value": users}
    assert log["4.44"]["queries"] == ["SELECT state FROM ir_module_module WHERE name = 'account'"]  # as it ran
    logins = [r[0] for r in odoo_db.execute("SELECT login FROM res_users WHERE NOT active ORDER BY login")]
    assert log["4.51"]["results"][0]["evidence"].startswith(f"expected: row count == 0\nrows: {inactive}\n\nlogin\n")
    assert all(login in log["4.51"]["evidence"] for login in logins)
    assert run.returncode == 1


def test_a_query_that_cannot_answer_is_an_error_naming_the_check(deployment, odoo_db):
    deployment.configure(
        checks=[
            check("4.60", "== 0", "SELECT count(*) FROM res_userz"),
            check("4.61", "== 0", "SELECT id FROM res_users"),
            check("4.62", "== 0", "DELETE FROM res_users WHERE login = 'admin' RETURNING id"),
            check("4.63", f"== {odoo_db.scalar(ACTIVE_USERS)}"),
        ]
    )
    run = deployment.run("--items", "4.60,4.61,4.62,4.63")
    assert run.statuses() == {"4.60": "ERROR", "4.61": "ERROR", "4.62": "ERROR", "4.63": "PASS"}, run.output
    items = run.log()["items"]
    assert items["4.60"]["message"] == (
        'database error while reading check 4.60 (check 4.60): SQLSTATE 42P01: relation "res_userz" does not exist'
    )
    assert items["4.60"]["queries"] == ["SELECT count(*) FROM res_userz"]
    users = odoo_db.scalar("SELECT count(*) FROM res_users")
    assert items["4.61"]["message"] == (
        f'check 4.61 (check 4.61): the query returned {users} row(s) of 1 column(s); returns = "value" needs exactly one row '
        'of one column (use returns = "rows" to compare the row count)'
    )
    assert items["4.62"]["message"] == (
        "database error while reading check 4.62 (check 4.62): SQLSTATE 25006: cannot execute DELETE in a read-only transaction"
    )
    assert odoo_db.scalar("SELECT count(*) FROM res_users WHERE login = 'admin'") == 1


def test_the_baseline_expectations_both_ways(deployment, odoo_db):
    currencies = "SELECT count(*) FROM res_currency WHERE active"
    deployment.configure(
        checks=[
            check("5.30", "== baseline", currencies),
            check("5.31", ">= baseline", currencies),
            check("5.32", "< baseline", currencies),
            check("5.33", "== baseline", "SELECT name FROM res_currency WHERE active ORDER BY name", returns="rows"),
        ]
    )
    phase0 = deployment.run("-m", "phase0", "--items", "0.3")
    assert phase0.status("0.3") == "PASS", phase0.output
    upgrade_module(odoo_db.dsn, "17.0.1.0.9")
    before = odoo_db.scalar(currencies)
    same = deployment.run("-m", "post", "--items", "5.30,5.31,5.32,5.33")
    assert same.statuses() == {"5.30": "PASS", "5.31": "PASS", "5.32": "FAIL", "5.33": "PASS"}, same.output
    assert same.log()["items"]["5.30"]["figures"] == {"kind": "counts", "value": before, "baseline": before}
    odoo_db.execute("UPDATE res_currency SET active = false WHERE id = (SELECT max(id) FROM res_currency)")
    changed = deployment.run("-m", "post", "--items", "5.30,5.31,5.32,5.33")
    assert changed.statuses() == {"5.30": "FAIL", "5.31": "FAIL", "5.32": "PASS", "5.33": "FAIL"}, changed.output
    assert changed.log()["items"]["5.30"]["message"] == f"returned {before - 1}, expected == baseline ({before} at phase 0)"
    assert changed.log()["items"]["5.33"]["message"] == f"{before - 1} row(s), expected == baseline ({before} at phase 0)"
    # a check declared after phase 0 has no baseline value: it says how to get one
    deployment.configure(checks=[*deployment.config["checks"], check("5.34", "== baseline", currencies)])
    late = deployment.run("-m", "post", "--items", "5.34")
    assert late.status("5.34") == "ERROR"
    assert late.log()["items"]["5.34"]["message"] == (
        "the baseline holds no value for check 5.34 (check 5.34): the check was declared after phase 0; "
        "before deploying, re-run phase 0 with --recapture-baseline"
    )


def test_a_baseline_value_that_cannot_be_read_fails_the_baseline(deployment, odoo_db):
    deployment.configure(checks=[check("5.40", "== baseline", "SELECT count(*) FROM res_currencyy")])
    run = deployment.run("-m", "phase0", "--items", "0.3")
    assert run.status("0.3") == "ERROR"
    assert run.log()["items"]["0.3"]["message"] == (
        "the baseline value of check 5.40 (check 5.40) could not be read: database error while reading check 5.40 (check 5.40): "
        'SQLSTATE 42P01: relation "res_currencyy" does not exist'
    )
    assert not list((deployment.root / "baseline").glob("*.json"))


OWN_TESTS = '''
import pytest

@pytest.mark.item("4.70", title="Admin is active")
def test_admin(snapshot):
    assert snapshot.scalar("SELECT active FROM res_users WHERE login = %(login)s", {"login": "admin"})

@pytest.mark.item("4.71", title="A table that is not there")
def test_missing(snapshot):
    snapshot.rows("SELECT count(*) FROM no_such_table")

@pytest.mark.item("4.72", title="Posted moves")
def test_after(snapshot):
    """Runs after 4.71's failed statement: the snapshot is still usable."""
    assert snapshot.scalar("SELECT count(*) FROM account_move WHERE state = %s", ("posted",)) > 0
'''


def test_a_test_of_ones_own_reads_the_snapshot(deployment, odoo_db):
    deployment.add_tests("test_own.py", OWN_TESTS)
    run = deployment.run("--items", "4.70,4.71,4.72")
    assert run.statuses() == {"4.70": "PASS", "4.71": "ERROR", "4.72": "PASS"}, run.output
    items = run.log()["items"]
    assert items["4.70"]["queries"] == ["SELECT active FROM res_users WHERE login = 'admin'"]
    assert items["4.71"]["message"] == (
        "database error while reading statement `SELECT count(*) FROM no_such_table`: "
        'SQLSTATE 42P01: relation "no_such_table" does not exist'
    )
    assert items["4.72"]["queries"] == ["SELECT count(*) FROM account_move WHERE state = 'posted'"]


INVALID = {
    "an unknown expectation": (check("4.80", "= 0"), "checks[0].expect: '= 0' is not an expectation; write == x"),
    "a parameter nothing defines": (
        check("4.80", "== 0", "SELECT count(*) FROM res_users WHERE login = %(login)s"),
        "checks[0].sql uses %(login)s, which neither checks[0].params nor the deployment defines (known: module, expected_version",
    ),
    "a positional parameter": (
        check("4.80", "== 0", "SELECT count(*) FROM res_users WHERE login = %s"),
        "checks[0].sql: '%s' is not a named parameter %(name)s (write a literal % as %%)",
    ),
    "a built-in id": (
        check("4.1", "== 0"),
        "checks[0]: item 4.1 is a built-in item ('Module Loaded'); deploy.toml [[checks]] gives it",
    ),
    "a built-in id and title": (
        {**check("4.1", "== 0"), "title": "Module Loaded"},
        "checks[0].item: 4.1 is a built-in item ('Module Loaded'); declare a check under an id of its own",
    ),
    "baseline in phase 0": (
        check("0.8", "== baseline"),
        "checks[0].expect: '== baseline' compares with the baseline, which phase 0 records: use it in phases 1-7",
    ),
    "a misspelt key": ({**check("4.80", "== 0"), "expcted": "x"}, "unknown key 'checks[0].expcted' (did you mean 'expected'?)"),
    "a wrong phase": ({**check("4.80", "== 0"), "phase": "5"}, "checks[0].phase: '5', but item 4.80 belongs to phase 4 (its prefix)"),
}


@pytest.mark.parametrize("case", INVALID)
def test_checks_that_cannot_run_stop_the_run_before_anything_runs(deployment, case):
    entry, problem = INVALID[case]
    deployment.configure(checks=[entry])
    run = deployment.run("-m", "phase0")
    assert run.returncode == 4
    lines = [line for line in run.output.splitlines() if "deploylog: configuration error" in line]
    assert len(lines) == 1 and problem in lines[0], run.output
    assert not deployment.report_dir.exists()


def test_a_check_id_twice_is_refused():
    raw = {"deployment": {"module": "m", "expected_version": "1"}, "database": {"name": "d"}, "checks": [check("4.80", "== 0")] * 2}
    with pytest.raises(spec_mod.SpecError, match=r"^checks\[1\]\.item: 4\.80 is declared twice$"):
        spec_mod.build(raw)


WAIVED_TESTS = """
import pytest

@pytest.mark.item("4.73", title="Fails, waived")
def test_waived(snapshot):
    inactive = snapshot.scalar("SELECT count(*) FROM res_users WHERE NOT active")
    assert inactive == 0, f"{inactive} inactive user(s)"

@pytest.mark.item("4.74", title="Not selected")
def test_not_selected():
    pass
"""
WAIVERS = """
[[waivers]]
item = "4.73"
justification = "inactive users are kept for the audit trail"
approved_by = "Ops Lead"
expires = 2099-12-31
"""


def test_own_items_checks_and_waivers_under_xdist(deployment, odoo_db):
    deployment.add_tests("test_waived.py", WAIVED_TESTS)
    (deployment.root / "waivers.toml").write_text(WAIVERS)
    users = odoo_db.scalar(ACTIVE_USERS)
    deployment.configure(waivers={"file": "waivers.toml"}, checks=[check("4.75", f"== {users}")])
    run = deployment.run("--items", "4.73,4.75", "-n", "2")
    assert run.statuses() == {"4.73": "WAIVED", "4.75": "PASS"}, run.output
    assert run.returncode == 0 and "INTERNALERROR" not in run.output
    log = run.log()
    assert log["items"]["4.73"]["waiver"]["approved_by"] == "Ops Lead"
    assert log["items"]["4.74"]["title"] == "Not selected" and log["items"]["4.74"]["status"] == "SKIP"  # a worker collected it
    assert [w["item"] for w in log["waivers"]] == ["4.73"]
    # a waivers file that cannot be used: one line from the controller before any worker runs a test
    (deployment.root / "waivers.toml").write_text(WAIVERS.replace("approved_by", "approver"))
    broken = deployment.run("--items", "4.73,4.75", "-n", "2")
    assert broken.returncode == 4 and "INTERNALERROR" not in broken.output
    assert "deploylog: configuration error, nothing run or recorded: unknown key 'waivers file" in broken.output
