"""pytest-xdist: under -n 2 the real suite writes every result to the log once, the controller
prints the verdict, and every worker reads the database in the controller's snapshot."""

from __future__ import annotations

import re
import threading
from collections import Counter

import psycopg

from deploylog.demo.simulate import upgrade_module
from deploylog.log import state

PHASE0 = ("0.1", "0.2", "0.3", "0.4")
DB_POST = ("4.1", "4.5", "4.6", "4.7", "5.1", "5.2", "5.3", "5.4")
VERDICT = re.compile(r"^deploylog: (GO|NO-GO|ROLLBACK) — ", re.M)


def run_events(deployment):
    current = state.load(next(deployment.report_dir.glob("*.state.json")))
    return [e for e in current["events"] if e["type"] == "run"]


def snapshot_of(dsn: str) -> str:
    with psycopg.connect(dsn, autocommit=True) as conn:
        return str(conn.execute("SELECT txid_current_snapshot()::text").fetchone()[0])


class TxidConsumer:
    """Commits a transaction every few milliseconds while the suite runs: a snapshot taken
    later than another differs from it, so equal snapshots in two workers mean one imported snapshot."""

    def __init__(self, dsn: str) -> None:
        self.dsn = dsn
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.loop, daemon=True)

    def loop(self) -> None:
        with psycopg.connect(self.dsn, autocommit=True) as conn:
            while not self.stop.wait(0.005):
                conn.execute("SELECT txid_current()")

    def __enter__(self) -> TxidConsumer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join()


def assert_one_shared_snapshot(run: dict) -> None:
    """The controller exported a snapshot; both workers imported it and saw exactly what it sees."""
    notes = run["snapshots"]
    exported = re.fullmatch(r"controller: exported snapshot (\S+), txid_current_snapshot (\S+)", notes[0])
    assert exported, notes
    snapshot_id, seen = exported.groups()
    assert notes[1:] == [f"gw{n}: imported snapshot {snapshot_id}, txid_current_snapshot {seen}" for n in (0, 1)], notes


def assert_recorded_once(deployment, outcome, items, runs_before):
    runs = run_events(deployment)
    assert len(runs) == runs_before + 1  # the controller recorded the run; no worker added one
    run = runs[-1]
    assert Counter(r["item"] for r in run["results"]) == Counter(items)  # each result exactly once
    assert len(VERDICT.findall(outcome.output)) == 1  # one verdict line, the controller's
    assert outcome.output.rstrip().splitlines()[-1].startswith("deploylog: GO — ")
    return run


def test_under_xdist_each_result_reaches_the_log_once_in_one_snapshot(deployment, odoo_db):
    with TxidConsumer(odoo_db.dsn):
        before = snapshot_of(odoo_db.dsn)
        phase0 = deployment.run("-m", "phase0", "--items", ",".join(PHASE0), "-n", "2")
        assert phase0.statuses() == dict.fromkeys(PHASE0, "PASS"), phase0.output
        run = assert_recorded_once(deployment, phase0, PHASE0, 0)
        assert_one_shared_snapshot(run)
        assert snapshot_of(odoo_db.dsn) != before  # the database moved on while the workers ran

        upgrade_module(odoo_db.dsn, "17.0.1.0.9")
        post = deployment.run("-m", "post", "--items", ",".join(DB_POST), "-n", "2")
        run = assert_recorded_once(deployment, post, DB_POST, 1)
        assert_one_shared_snapshot(run)

    serial = deployment.run("-m", "post", "--items", ",".join(DB_POST))
    assert post.statuses() == serial.statuses() == dict.fromkeys(DB_POST, "PASS"), post.output + serial.output
    parallel_run, serial_run = run_events(deployment)[-2:]
    assert {r["item"]: r["status"] for r in parallel_run["results"]} == {r["item"]: r["status"] for r in serial_run["results"]}
    assert [note.split(",")[0] for note in serial_run["snapshots"]] == ["main: own snapshot"]
    assert len(VERDICT.findall(serial.output)) == 1
