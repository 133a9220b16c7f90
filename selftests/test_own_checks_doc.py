"""docs/write-your-own-check.md, run as written: every example of the page (its deploy.toml entries,
its test file, its waivers file) in a real deployment against a real PostgreSQL database, proven both
ways: PASS on a healthy deployment, FAIL (or WAIVED, under the page's waiver) on the fault it looks for."""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path

from deploylog.demo.simulate import upgrade_module
from selftests.support.suite import REPO, Deployment

PAGE = REPO / "docs" / "write-your-own-check.md"
# ```toml deploy.toml / ```python tests/test_x.py / ```toml waivers.toml: an example and the file it belongs in
EXAMPLE = re.compile(r"^```(?P<language>\w+) (?P<file>\S+)\n(?P<body>.*?)^```$", re.MULTILINE | re.DOTALL)
PHASE0_OWN = ("0.5",)
POST_OWN = ("2.20", "4.8", "4.10", "4.11", "4.20", "5.5", "5.6", "5.7", "5.8", "5.20")


def examples() -> list[tuple[str, str]]:
    return [(m.group("file"), m.group("body")) for m in EXAMPLE.finditer(PAGE.read_text(encoding="utf-8"))]


def install(deployment: Deployment) -> None:
    """The page's files in the deployment: deploy.toml entries merged in, the others written beside it."""
    for name, body in examples():
        if name != "deploy.toml":
            path = deployment.root / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(body)
            continue
        for section, values in tomllib.loads(body).items():
            if isinstance(values, list):
                deployment.config[section] = [*deployment.config.get(section, []), *values]
            else:
                deployment.configure(**{section: values})
    deployment.configure()


def deployed(deployment: Deployment, odoo_db) -> None:
    before = deployment.run("-m", "phase0")
    assert before.statuses() == dict.fromkeys(("0.1", "0.2", "0.3", "0.4", *PHASE0_OWN), "PASS"), before.output
    upgrade_module(odoo_db.dsn, "17.0.1.0.9")


def post(deployment: Deployment):
    return deployment.run("-m", "post", "--items", ",".join(POST_OWN))


def test_the_page_has_an_example_of_each_kind():
    files = [name for name, _ in examples()]
    assert files.count("deploy.toml") == 3 and "tests/test_payments_own.py" in files and "waivers.toml" in files
    protected = [p for name, body in examples() if name == "deploy.toml" for p in tomllib.loads(body).get("protect", [])]
    assert [(p["name"], "table" in p, "query" in p, bool(p.get("counts"))) for p in protected] == [
        ("partners", True, False, True),
        ("payment_lines", False, True, True),
    ]
    declared = [c["expect"] for name, body in examples() if name == "deploy.toml" for c in tomllib.loads(body).get("checks", [])]
    assert declared == ["> 100", "== 0", "== 'installed'", "between 1 and 10", "== baseline", ">= baseline"]


def test_the_page_examples_pass_on_a_healthy_deployment(deployment, odoo_db):
    install(deployment)
    deployed(deployment, odoo_db)
    baseline = json.loads(next((deployment.root / "baseline").glob("*.json")).read_text())
    installed = odoo_db.scalar("SELECT count(*) FROM ir_module_module WHERE state = 'installed'")
    assert baseline["checks"] == {"5.5": 2, "5.6": installed}  # what phase 0 recorded for the == / >= baseline checks
    run = post(deployment)
    assert run.statuses() == dict.fromkeys(POST_OWN, "PASS"), run.output
    assert run.returncode == 0
    items = run.log()["items"]
    assert items["4.8"]["message"] == "0 row(s): == 0 holds"
    assert items["4.10"]["message"] == "returned installed: == 'installed' holds"
    assert items["5.5"]["message"] == "returned 2: == baseline (2 at phase 0) holds"
    partners = odoo_db.scalar("SELECT count(*) FROM res_partner")
    assert items["5.7"]["message"].startswith(f"MATCH: partners {partners}, partners.companies ")
    assert items["5.8"]["message"].startswith("MATCH: payment_lines ")
    assert baseline["figures"]["partners"] == partners
    assert items["4.20"]["message"] == "test passed" and items["4.20"]["expected"] == "No payment is in an inactive currency."
    # the SQL a test of one's own ran is its Query evidence, as the server ran it
    assert items["4.20"]["queries"] == [
        "SELECT count(*) FROM account_payment p JOIN res_currency c ON c.id = p.currency_id WHERE NOT c.active"
    ]
    (query,) = items["5.20"]["queries"]
    assert query.startswith("SELECT id, name FROM account_move WHERE state = 'posted' AND write_date > '20")
    assert items["0.5"]["queries"] == [
        "SELECT count(*) FROM account_move\nWHERE state = 'posted' AND move_type = ANY('{out_invoice,in_invoice}')"
    ]
    md = (deployment.report_dir / "execution-log.md").read_text()
    assert "### Test 4.20: Payments in active currencies" in md and "### Integrity 5.5: Active currencies unchanged" in md


def test_the_page_examples_fail_on_their_faults(deployment, odoo_db):
    install(deployment)
    deployed(deployment, odoo_db)
    installed = odoo_db.scalar("SELECT count(*) FROM ir_module_module WHERE state = 'installed'")
    odoo_db.execute(
        "UPDATE account_payment SET voucher_number = 'DUP-0001' WHERE id IN (SELECT id FROM account_payment ORDER BY id LIMIT 2)"
    )
    odoo_db.execute("UPDATE ir_module_module SET state = 'to upgrade' WHERE name = 'account'")
    odoo_db.execute("DELETE FROM ir_model_data WHERE module = 'payment_account_enhanced' AND model = 'res.groups'")
    odoo_db.execute("UPDATE res_currency SET active = false")
    odoo_db.execute("UPDATE ir_module_module SET state = 'uninstalled' WHERE name = 'web'")
    touched = odoo_db.scalar(
        "UPDATE account_move SET write_date = now() AT TIME ZONE 'UTC' "
        "WHERE id = (SELECT min(id) FROM account_move WHERE state = 'posted') RETURNING name"
    )
    manifest = Path(deployment.config["paths"]["repo"]) / "payment_account_enhanced" / "__manifest__.py"
    manifest.unlink()
    partner = odoo_db.scalar(
        "UPDATE res_partner SET email = 'new@example.com' WHERE id = (SELECT min(id) FROM res_partner) RETURNING id"
    )
    line = odoo_db.scalar(
        "UPDATE account_move_line SET reconciled = NOT coalesce(reconciled, false) WHERE id = (SELECT min(id) FROM "
        "account_move_line WHERE payment_id IS NOT NULL AND parent_state = 'posted' AND reconciled) RETURNING id"
    )
    run = post(deployment)
    expected = {item: "FAIL" for item in POST_OWN} | {"4.20": "WAIVED"}  # the page's waiver covers 4.20
    assert run.statuses() == expected, run.output
    assert run.returncode == 1
    items = run.log()["items"]
    assert items["4.8"]["message"] == "1 row(s), expected == 0"
    assert "voucher_number | payments\n---------------+---------\nDUP-0001       | 2" in items["4.8"]["evidence"]
    assert items["4.10"]["message"] == "returned to upgrade, expected == 'installed'"
    assert items["4.11"]["message"] == "returned 0, expected between 1 and 10"
    assert items["5.5"]["message"] == "returned 0, expected == baseline (2 at phase 0)"
    assert items["5.6"]["message"] == f"returned {installed - 2}, expected >= baseline ({installed} at phase 0)"
    assert items["5.20"]["message"] == f"1 posted entries written since phase 0: {touched}"
    assert items["2.20"]["message"] == f"{manifest} is missing"
    assert items["5.7"]["message"] == f"MISMATCH: partners fingerprint changed: changed row id(s) {partner}"
    assert items["5.8"]["message"].startswith("MISMATCH: payment_lines.reconciled ")
    assert items["5.8"]["message"].endswith(f"(-1); payment_lines fingerprint changed: changed row id(s) {line}")
    waived = items["4.20"]
    assert (waived["waived_status"], waived["message"]) == ("FAIL", "400 payment(s) in an inactive currency")
    assert waived["waiver"]["approved_by"] == "Dana Reyes (Finance Manager)"
    # the phase 0 example, on its own fault
    odoo_db.execute("UPDATE account_move SET state = 'draft' WHERE state = 'posted' AND move_type IN ('out_invoice', 'in_invoice')")
    again = deployment.run("-m", "phase0", "--items", "0.5")
    assert again.status("0.5") == "FAIL" and again.message("0.5") == "[0.5] returned 0, expected > 100"
