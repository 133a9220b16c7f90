"""Issue 8.7: a database error in the middle of a run fails only the items that need the failing figure,
with one line naming what timed out or was refused and the setting that fixes it; the other items run on
a consistent snapshot, and a new one (said in their evidence) after a lost connection."""

from __future__ import annotations

import threading
import time

import psycopg

from deploylog.demo.simulate import upgrade_module

PHASE0 = "0.1,0.2,0.3,0.4"
DB_POST = "4.1,4.5,4.6,4.7,5.1,5.2,5.3,5.4"
# A reconciliation "table" that answers after a pause: a figure the server can time out, or that a DBA can kill.
SLOW_VIEW = "CREATE VIEW slow_reconciliation_line AS SELECT l.* FROM account_bank_reconciliation_line l, pg_sleep({})"


def deployed(deployment, odoo_db):
    run = deployment.run("-m", "phase0", "--items", PHASE0)
    assert run.statuses() == dict.fromkeys(PHASE0.split(","), "PASS"), run.output
    upgrade_module(odoo_db.dsn, "17.0.1.0.9")


def assert_clean(run):
    for noise in ("Traceback", "current transaction is aborted", "teardown error", "psycopg.errors"):
        assert noise not in run.output, run.output[-3000:]


def test_a_locked_table_fails_only_the_items_that_read_it(deployment, odoo_db):
    deployed(deployment, odoo_db)
    with psycopg.connect(odoo_db.dsn, application_name="dba-maintenance") as locker:
        locker.execute("LOCK TABLE account_payment IN ACCESS EXCLUSIVE MODE")
        run = deployment.run("-m", "post", "--items", DB_POST, "--set", "database.lock_timeout_ms=300")
        locker.rollback()
    for item in ("4.5", "5.1", "5.4"):
        assert run.status(item) == "ERROR", (item, run.output)
        message = run.message(item)
        assert "lock timeout while reading " in message
        assert "account_payment held in AccessExclusiveLock by pid " in message
        assert ", application_name dba-maintenance; retry once the lock is released" in message
        assert "[database] lock_timeout_ms = 300; raise it with --set database.lock_timeout_ms=N" in message
    for item in ("4.1", "4.6", "4.7", "5.2", "5.3"):
        assert run.status(item) == "PASS", (item, run.message(item))
    assert run.returncode == 1
    assert_clean(run)


def test_a_statement_timeout_fails_only_the_figure_that_ran_too_long(deployment, odoo_db):
    odoo_db.execute(SLOW_VIEW.format(3))
    deployment.configure(reconciliation={"table": "slow_reconciliation_line"}, database={"statement_timeout_ms": 1500})
    run = deployment.run("-m", "phase0", "--items", PHASE0)
    # 0.2 reads the reconciliation figure; 0.3 the [[protect]] set on the same table (its scan, named by its entry)
    for item, figure in (("0.2", "reconciliation_lines"), ("0.3", "[[protect]] reconciliation_lines (row export)")):
        assert run.status(item) == "ERROR", (item, run.output)
        assert run.message(item).endswith(
            f"statement timeout while reading {figure}: the query ran longer than "
            "[database] statement_timeout_ms = 1500; raise it with --set database.statement_timeout_ms=N"
        ), run.message(item)
    assert run.status("0.1") == "PASS" and run.status("0.4") == "PASS", run.output
    assert_clean(run)


def test_a_killed_connection_fails_its_figure_and_later_items_say_they_read_a_new_snapshot(deployment, odoo_db):
    odoo_db.execute(SLOW_VIEW.format(2))
    deployment.configure(reconciliation={"table": "slow_reconciliation_line"})  # at phase 0 too: the same 5.3 set
    deployed(deployment, odoo_db)
    killed: list[int] = []
    done = threading.Event()

    def kill_while_reading_the_view() -> None:  # what a DBA's pg_terminate_backend does mid-run
        while not done.is_set() and not killed:
            killed.extend(
                r[0]
                for r in odoo_db.execute(
                    "SELECT pid FROM pg_stat_activity WHERE application_name = 'deploylog' AND datname = %s "
                    "AND state = 'active' AND query LIKE %s AND pg_terminate_backend(pid)",
                    (odoo_db.name, "%slow_reconciliation_line%"),
                )
            )
            time.sleep(0.05)

    killer = threading.Thread(target=kill_while_reading_the_view)
    killer.start()
    try:
        run = deployment.run("-m", "post", "--items", DB_POST)
    finally:
        done.set()
        killer.join()
    assert len(killed) == 1
    assert run.status("4.7") == "ERROR", run.output
    assert "connection lost while reading reconciliation_lines (terminating connection due to administrator command)" in run.message(
        "4.7"
    ), run.message("4.7")
    items = run.log()["items"]
    for item in ("4.1", "4.5", "4.6"):  # read before the loss, on the first snapshot
        assert run.status(item) == "PASS", (item, run.message(item))
        assert "new snapshot" not in items[item]["evidence"]
    for item in ("5.1", "5.2", "5.3", "5.4"):  # read after it (each set its own scan), on a new one, and said so
        assert run.status(item) == "PASS", (item, run.message(item))
        assert "new snapshot taken at " in items[item]["evidence"]
        assert "after the first connection was lost while reading reconciliation_lines" in items[item]["evidence"]
    assert_clean(run)
