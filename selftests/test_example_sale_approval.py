"""examples/sale-approval end to end: a second deployment, not about payments, through the real suite.

Its deploy.toml and its test file as shipped (only the database, paths and service pointed at
the test's), on a generated Odoo 17 database with the sale tables (generate.populate(sales=True))
and a git checkout of sale_order_approval 17.0.1.1.0. Phase 0 is GO; the deployment is simulated
as the demo does (git pull of 17.0.1.2.0, stop, caches cleared, `-u`, start, the log); the healthy
post run is GO with the example's own items PASS; each fault makes exactly the right items FAIL
with the right message, and the verdict follow the log's rules.
"""

from __future__ import annotations

import itertools
import shutil
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest

from deploylog import baseline as baseline_mod
from deploylog import runbook
from deploylog import spec as spec_mod
from deploylog.commands import demo
from deploylog.demo import generate, module_repo, sale_approval
from deploylog.demo.cluster import Cluster
from deploylog.demo.simulate import upgrade_module
from deploylog.errors import DeploylogError
from deploylog.hostchecks import take_backup
from deploylog.log import actions
from selftests.support.host_scenario import Scenario
from selftests.support.postgres import Janitor, OdooDb
from selftests.support.suite import REPO, Deployment, SuiteRun

EXAMPLE = REPO / "examples" / "sale-approval"
TEMPLATE = "odoo17_sale_template"
OWN = ("4.10", "4.20", "5.1", "5.2")  # the example's own items: [[checks]], its test, its [[protect]] sets
LEFT_OUT = {
    "P.6": "deploy.toml has no [groups]",
    "0.1": "deploy.toml has no [approval]",
    "0.2": "deploy.toml has no [reconciliation]",
    "0.4": "deploy.toml has no [groups]",
    "4.2": "deploy.toml has no [[guards]] entry for item 4.2",
    "4.3": "deploy.toml has no [[guards]] entry for item 4.3",
    "4.4": "deploy.toml has no [[guards]] entry for item 4.4",
    "4.5": "deploy.toml has no [approval]",
    "4.6": "deploy.toml has no [groups]",
    "4.7": "deploy.toml has no [reconciliation]",
}
_numbers = itertools.count(1)


@pytest.fixture(scope="module")
def sale_template(pg_cluster: Cluster) -> str:
    """The generated Odoo 17 database with the sale tables and sale_order_approval 17.0.1.1.0, once."""
    generate.generate(pg_cluster.dsn(), pg_cluster.dsn(TEMPLATE), TEMPLATE, seed=17, sales=True)
    return TEMPLATE


@pytest.fixture
def sale_db(pg_cluster: Cluster, sale_template: str) -> Iterator[OdooDb]:
    with Janitor(pg_cluster, f"erp_{next(_numbers)}", sale_template) as db:
        yield db


@pytest.fixture
def example(tmp_path: Path, sale_db: OdooDb, pg_cluster: Cluster) -> Iterator[Scenario]:
    """The example's deploy.toml and tests, pointed at this test's database, checkout, service and log."""
    deployment = Deployment(tmp_path, sale_db.name, sale_db.dsn, template=EXAMPLE / "deploy.toml", source=sale_approval.SOURCE)
    deployment.configure(paths={"tests": [str(EXAMPLE / "tests")]}, thresholds={"min_free_disk_gb": 1})
    scenario = Scenario(deployment, pg_cluster.bin_dir, source=sale_approval.SOURCE)
    yield scenario
    scenario.server.stop()


def phase0(example: Scenario) -> SuiteRun:
    run = example.d.run("-m", "phase0")
    assert run.statuses() == {"0.3": "PASS"}, run.output[-3000:]
    assert run.returncode == 0 and run.log()["verdict"]["decision"] == "GO", run.log()["verdict"]
    example.started_at = baseline_mod.load(example.spec).started_at  # the restart must come after it
    return run


def deploy(example: Scenario, dsn: str) -> None:
    """What the operator does between the backups and the post run: pull, stop, clear caches, -u, start."""
    module_repo.deploy_source(example.repo, sale_approval.SOURCE)
    example.server.stop()
    shutil.rmtree(example.cache, ignore_errors=True)
    upgrade_module(dsn, sale_approval.NEW_VERSION, module=sale_approval.MODULE)
    example.write_log(example.restart())


def post(example: Scenario) -> SuiteRun:
    return example.d.run("-m", "post")


def deployed(example: Scenario, db: OdooDb) -> None:
    """The service up, phase 0 GO, the backups taken, the deployment done."""
    example.server.start()
    phase0(example)
    example.backups()
    deploy(example, db.dsn)


def confirmed_order(db: OdooDb, low: float = 0, high: float = 1e12) -> tuple[int, str]:
    """The first confirmed order whose total lies between low and high."""
    rows = db.execute(
        "SELECT id, name FROM sale_order WHERE state = 'sale' AND amount_total BETWEEN %s AND %s ORDER BY id LIMIT 1", (low, high)
    )
    return rows[0]


# --- the database side: Odoo 17's columns, the module's registry row -----------------------------------

# (table, column) -> (data type, nullable) as Odoo 17's ORM creates them, for every column the example reads
COLUMNS = {
    ("sale_order", "id"): ("integer", "NO"),
    ("sale_order", "name"): ("character varying", "NO"),
    ("sale_order", "state"): ("character varying", "YES"),
    ("sale_order", "partner_id"): ("integer", "NO"),
    ("sale_order", "date_order"): ("timestamp without time zone", "NO"),
    ("sale_order", "currency_id"): ("integer", "YES"),
    ("sale_order", "amount_untaxed"): ("numeric", "YES"),
    ("sale_order", "amount_tax"): ("numeric", "YES"),
    ("sale_order", "amount_total"): ("numeric", "YES"),
    ("sale_order", "locked"): ("boolean", "YES"),
    ("sale_order", "approval_state"): ("character varying", "YES"),
    ("sale_order_line", "id"): ("integer", "NO"),
    ("sale_order_line", "order_id"): ("integer", "NO"),
    ("sale_order_line", "display_type"): ("character varying", "YES"),
    ("sale_order_line", "product_id"): ("integer", "YES"),
    ("sale_order_line", "product_uom_qty"): ("numeric", "NO"),
    ("sale_order_line", "price_unit"): ("numeric", "NO"),
    ("sale_order_line", "discount"): ("numeric", "YES"),
    ("sale_order_line", "price_subtotal"): ("numeric", "YES"),
    ("sale_order_line", "price_tax"): ("double precision", "YES"),
    ("sale_order_line", "price_total"): ("numeric", "YES"),
    ("sale_order_line", "customer_lead"): ("double precision", "NO"),
}


def test_the_generated_sale_tables_are_odoo_17s(sale_db):
    found = {
        (t, c): (kind, nullable)
        for t, c, kind, nullable in sale_db.execute(
            "SELECT table_name, column_name, data_type, is_nullable FROM information_schema.columns "
            "WHERE table_schema = 'public' AND table_name IN ('sale_order', 'sale_order_line')"
        )
    }
    assert {key: found.get(key) for key in COLUMNS} == COLUMNS
    states = {row[0] for row in sale_db.execute("SELECT DISTINCT state FROM sale_order")}
    assert states == {"draft", "sent", "sale", "cancel"}  # Odoo 17: no 'done' (a locked order is `locked`)
    modules = dict(sale_db.execute("SELECT name, latest_version FROM ir_module_module WHERE state = 'installed'"))
    assert modules["sale"] == "17.0.1.2" and modules[sale_approval.MODULE] == sale_approval.OLD_VERSION
    assert (
        sale_db.scalar("SELECT count(*) FROM sale_order o WHERE NOT EXISTS (SELECT 1 FROM sale_order_line l WHERE l.order_id = o.id)")
        == 0
    )


def test_the_payment_template_generates_no_sale_table(odoo_db):
    assert odoo_db.scalar("SELECT count(*) FROM pg_class WHERE relname IN ('sale_order', 'sale_order_line')") == 0


# --- the example as shipped --------------------------------------------------------------------------


def test_the_example_is_a_valid_deployment_of_its_own():
    spec = spec_mod.load(EXAMPLE / "deploy.toml")
    assert spec.deployment.module == sale_approval.MODULE
    assert (spec.deployment.previous_version, spec.deployment.expected_version) == (
        sale_approval.OLD_VERSION,
        sale_approval.NEW_VERSION,
    )
    assert list(spec.expected.changed_files) == sale_approval.SOURCE.expected_files
    assert runbook.not_in_runbook(spec) == LEFT_OUT
    assert [c.item for c in spec.checks] == ["4.10"] and [p.item for p in spec.protect] == ["5.1", "5.2"]
    assert spec.paths.tests == (str(EXAMPLE / "tests"),)
    assert (spec.groups, spec.approval, spec.reconciliation, spec.guards) == (None, None, None, ())


def test_phase0_deploy_post_healthy_is_go(example, sale_db):
    """Preflight and phase 0 GO, the deployment, the post run GO with every own item PASS; the header names the items left out."""
    backups = Path(example.spec.paths.backup_dir)
    backups.mkdir(parents=True, exist_ok=True)
    take_backup.dump_database(example.spec, backups / f"{sale_db.name}_PRE_DEPLOY_nightly.dump")
    actions.record_manual(example.spec, "P.1", "PASS", "DevOps Test", notes="sales team told")
    example.server.start()
    pre = example.d.run("-m", "preflight")
    assert pre.statuses() == dict.fromkeys(("P.1", "P.2", "P.3", "P.4", "P.5", "P.7"), "PASS"), pre.output[-3000:]
    reads = pre.log()["items"]["P.7"]["evidence"]
    assert "sale_order: " in reads and "sale_order_line: " in reads and "account_payment" not in reads
    phase0(example)
    example.backups()
    deploy(example, sale_db.dsn)

    run = post(example)
    statuses = run.statuses()
    assert {item: statuses.get(item) for item in OWN} == dict.fromkeys(OWN, "PASS"), run.output[-3000:]
    assert {s for i, s in statuses.items() if i not in OWN} <= {"PASS", "NA"}, statuses
    assert not set(LEFT_OUT) & set(statuses)
    assert run.returncode == 0
    log = run.log()
    assert log["verdict"]["decision"] == "GO", log["verdict"]
    assert log["items"]["4.1"]["message"] == (
        f"{sale_approval.MODULE} installed at {sale_approval.NEW_VERSION}; no module of the database left pending"
    )
    assert log["items"]["5.1"]["title"] == "Confirmed sale orders" and log["items"]["5.1"]["message"].startswith("MATCH")
    assert log["items"]["4.20"]["origin"].startswith("test ") and log["items"]["4.10"]["origin"] == "deploy.toml [[checks]]"
    assert log["not_in_runbook"] == LEFT_OUT and not set(LEFT_OUT) & set(log["items"])
    md = (example.d.report_dir / "execution-log.md").read_text()
    assert "**Not in this runbook**: P.6, 0.4, 4.6: deploy.toml has no [groups]  " in md
    assert "**Not in this runbook**: 0.1, 4.5: deploy.toml has no [approval]  " in md


def test_a_confirmed_order_changed_with_equal_counts_is_data_loss_rollback(example, sale_db):
    deployed(example, sale_db)
    order_id, _ = confirmed_order(sale_db, high=5000)
    sale_db.execute("UPDATE sale_order SET amount_total = amount_total + 1 WHERE id = %s", (order_id,))

    run = post(example)
    assert run.status("5.1") == "FAIL", run.output[-3000:]
    assert f"changed row id(s) {order_id}" in run.message("5.1")
    assert {i: run.status(i) for i in ("4.10", "4.20", "5.2")} == dict.fromkeys(("4.10", "4.20", "5.2"), "PASS")
    verdict = run.log()["verdict"]
    assert verdict["decision"] == "ROLLBACK" and "DATA LOSS DETECTED (5.1 " in verdict["reason"], verdict


def test_the_declared_check_and_the_own_test_fail_on_their_faults(example, sale_db):
    """Data the deployment must flag, present before phase 0: a confirmed order without product lines (4.10),
    one above the approval limit confirmed without its approval (4.20). Nothing changed since phase 0: 5.x PASS."""
    bare_id, bare_name = confirmed_order(sale_db, high=5000)
    sale_db.execute("DELETE FROM sale_order_line WHERE order_id = %s AND display_type IS NULL", (bare_id,))
    _, unapproved = confirmed_order(sale_db, low=20000)
    sale_db.execute("UPDATE sale_order SET approval_state = 'to_approve', approved_by_id = NULL WHERE name = %s", (unapproved,))
    deployed(example, sale_db)  # phase 0 is GO: neither item is a phase 0 item

    run = post(example)
    assert run.status("4.10") == "FAIL", run.output[-3000:]
    assert "1 row(s), expected == 0" in run.message("4.10")
    assert run.status("4.20") == "FAIL"
    assert "1 confirmed order(s) above the approval limit not approved: " + unapproved in run.message("4.20")
    assert "to_approve" in run.message("4.20")
    assert {i: run.status(i) for i in ("4.1", "5.1", "5.2")} == dict.fromkeys(("4.1", "5.1", "5.2"), "PASS")
    log = run.log()
    assert bare_name in log["items"]["4.10"]["evidence"]
    verdict = log["verdict"]
    assert verdict["decision"] == "NO-GO" and "4.10" in verdict["reason"] and "4.20" in verdict["reason"], verdict
    assert run.returncode == 1


# --- `deploylog demo --deploy-config=examples/sale-approval/deploy.toml` ------------------------------


def test_the_demo_deploys_the_module_its_config_names(tmp_path):
    config = tomllib.loads((EXAMPLE / "deploy.toml").read_text())
    chosen = demo._demo_module(config)
    assert chosen.source is sale_approval.SOURCE and chosen.sales
    assert demo._demo_module(tomllib.loads((REPO / "deploy.toml").read_text())).source is module_repo.PAYMENT
    demo._anchored(config, EXAMPLE / "deploy.toml")
    assert config["paths"]["tests"] == [str(EXAMPLE / "tests")]  # still the example's, from the demo's workdir
    with pytest.raises(DeploylogError, match=r"^the demo deploys payment_account_enhanced or sale_order_approval, not"):
        demo._demo_module({"deployment": {"module": "stock_custom"}})
