"""The log's rules as pure functions: item status, phase results, scores, verdict, redaction, state."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from deploylog import redact
from deploylog.errors import DeploylogError
from deploylog.log import chain, rules, state
from deploylog.log.meta import read_baseline
from deploylog.result import ERROR, FAIL, MANUAL, NA, PASS, SKIP
from selftests.support import log_scenarios as sc


@pytest.mark.parametrize(
    ("statuses", "phase", "expected"),
    [
        ([], "4", SKIP),
        ([], "7", MANUAL),
        ([PASS, NA], "1", PASS),
        ([NA, NA], "1", NA),
        ([PASS, FAIL], "1", FAIL),
        ([PASS, ERROR], "1", ERROR),
        ([FAIL, ERROR], "1", FAIL),
        ([PASS, SKIP], "1", SKIP),
    ],
)
def test_item_status_across_hosts(statuses, phase, expected):
    assert rules.item_status(statuses, phase) == expected


def views_with(**statuses: str) -> dict[str, rules.ItemView]:
    out = {}
    for item in sc.TEMPLATE_ITEMS.values():
        status = statuses.get(item.id.replace(".", "_"), PASS)
        out[item.id] = rules.ItemView(item, status, f"{item.id} {status}", [sc.entry(item.id, status)])
    return out


def score_of(items: dict[str, rules.ItemView], aspect: str) -> int | None:
    result = rules.overall(items, rules.phase_results(items))
    return next(s for s in rules.scores(items, result) if s.aspect == aspect).value


def test_score_penalties_by_severity():
    assert score_of(views_with(), "Log Analysis") == 5
    assert score_of(views_with(**{"6_1": FAIL}), "Log Analysis") == 4  # medium: -1
    assert score_of(views_with(**{"6_1": FAIL, "6_2": FAIL}), "Log Analysis") == 2  # medium + high: -3
    assert score_of(views_with(**{"6_1": FAIL, "6_2": FAIL, "6_3": ERROR}), "Log Analysis") == 1  # floor
    assert score_of(views_with(**{"7_5": FAIL}), "Functional Tests") == 4  # low: -1/2, rounded up
    assert score_of(views_with(**{"6_1": FAIL, "6_2": FAIL}), "Overall") == 4  # mean 4.4; failures cap at 4
    assert score_of(views_with(**{"5_1": FAIL}), "Overall") == 1  # critical failure caps at 1


def test_phase6_severity_boxes_follow_the_worst_failure():
    items = views_with(**{"6_2": FAIL})
    result = rules.phase_result("6", items)
    assert result.severity_options == [("LOW", False), ("MEDIUM", False), ("HIGH", True)]
    assert result.options == [("CLEAN LOGS", False), ("ERRORS FOUND", True)]


def test_phase5_error_is_not_verified_rather_than_data_loss():
    items = views_with(**{"5_4": ERROR})
    result = rules.phase_result("5", items)
    assert result.state == rules.PHASE_FAIL
    assert result.options == [("ALL DATA INTACT", False), ("DATA LOSS DETECTED (ROLLBACK!)", False)]
    assert result.note.startswith("data integrity NOT VERIFIED")
    verdict = rules.verdict(items, rules.phase_results(items))
    assert verdict.word == rules.NO_GO


@pytest.mark.parametrize(
    ("failing", "word", "words"),
    [
        ({"5_2": FAIL}, rules.ROLLBACK, "DATA LOSS"),
        ({"4_1": FAIL}, rules.ROLLBACK, "critical failure after deployment"),
        ({"0_4": FAIL}, rules.NO_GO, "ABORT & ROLLBACK"),
        ({"1_1": FAIL}, rules.NO_GO, "ABORT: backup failed"),
        ({"3_4": FAIL}, rules.NO_GO, "investigate"),
        ({"6_1": FAIL}, rules.GO, "minor issues: 6.1"),
        ({}, rules.GO, "phases 0-6 passed"),
    ],
)
def test_verdict_precedence(failing, word, words):
    items = views_with(**failing)
    verdict = rules.verdict(items, rules.phase_results(items))
    assert verdict.word == word
    assert words in verdict.reason
    assert verdict.line().startswith(f"deploylog: {word} — ")


def test_a_rejected_signoff_is_no_go():
    items = views_with()
    signoffs = [sc.signoff("finance", "APPROVE"), sc.signoff("finance", "REJECT")]
    verdict = rules.verdict(items, rules.phase_results(items), signoffs)
    assert verdict.word == rules.NO_GO and "Finance Manager" in verdict.reason


def test_overall_status_rules():
    items = views_with(**{"2_2": FAIL})  # high, not critical
    assert rules.overall(items, rules.phase_results(items)).status == rules.MINOR_ISSUES
    items = views_with(**{"2_4": FAIL})  # critical
    assert rules.overall(items, rules.phase_results(items)).status == rules.CRITICAL_FAILURE
    items = views_with(**{"0_4": FAIL})  # high, but phase 0 failing aborts
    assert rules.overall(items, rules.phase_results(items)).status == rules.CRITICAL_FAILURE
    items = views_with()
    assert rules.overall(items, rules.phase_results(items)).status == rules.COMPLETE_SUCCESS


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("host=db dbname=osusproperties user=odoo password=s3cr3t", "s3cr3t"),
        ("postgresql://odoo:s3cr3t@db:5432/osusproperties", "s3cr3t"),
        ("PGPASSWORD=s3cr3t pg_dump -Fc", "s3cr3t"),
        ('{"password": "s3cr3t"}', "s3cr3t"),
        ("postgres://odoo@db/osus?sslmode=require&password=s3cr3t", "s3cr3t"),
        ("password = 's3 cr3t' host=db", "s3 cr3t"),
    ],
)
def test_redaction(text, secret):
    out = redact.redact(text)
    assert secret not in out and "***" in out


def test_redaction_keeps_ordinary_text():
    text = "posted payments 150 > 100; 0 orphaned lines"
    assert redact.redact(text) == text


def test_state_is_written_atomically_and_redacted(tmp_path):
    path = state.state_path(tmp_path, "db-mod-1.0")
    event = sc.run(("0",), 0, {"0.1": {"evidence": "dsn: postgresql://odoo:hunter2@db/x"}})
    state.append_event(path, "db-mod-1.0", {}, event)
    state.append_event(path, "db-mod-1.0", {}, sc.run(("0",), 5))
    data = json.loads(path.read_text())
    assert [e["seq"] for e in data["events"]] == [1, 2]
    assert "hunter2" not in path.read_text()
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []
    with pytest.raises(DeploylogError, match="belongs to deployment"):
        state.append_event(path, "other-deployment", {}, sc.run(("0",), 9))


def test_corrupt_state_is_one_clear_error(tmp_path):
    path = tmp_path / "x.state.json"
    path.write_text("{not json")
    with pytest.raises(DeploylogError, match="not valid JSON"):
        state.load(path)


def test_failed_write_leaves_the_old_state(tmp_path, monkeypatch):
    path = tmp_path / "x.state.json"
    state.save(path, state.new_state("x", {}))
    before = path.read_text()

    def boom(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(OSError):
        state.save(path, {**state.new_state("x", {}), "events": [{"type": "run"}]})
    assert path.read_text() == before
    assert [p.name for p in tmp_path.iterdir()] == ["x.state.json"]


def test_chain_covers_the_baseline_and_every_event(tmp_path):
    events = sc.all_pass()["events"]
    base = chain.head("d", "", events)
    assert chain.head("d", "abc", events) != base
    edited = json.loads(json.dumps(events))
    edited[2]["results"][0]["status"] = "FAIL"
    assert chain.head("d", "", edited) != base
    assert chain.heads("d", "", events)[-1] == base
    baseline = tmp_path / "b.json"
    assert not read_baseline(str(baseline)).present
    assert "empty string" in read_baseline(str(baseline)).note
    baseline.write_text(json.dumps({"digest": "f" * 64, "figures": {}}))
    assert read_baseline(str(baseline)).digest == "f" * 64
    baseline.write_text("garbage")
    assert not read_baseline(str(baseline)).present


def test_na_items_are_named_in_a_go_verdict_and_the_final_results():
    items = views_with(**{"0_3": NA, "4_7": NA, "5_3": NA})
    verdict = rules.verdict(items, rules.phase_results(items))
    assert verdict.word == rules.GO
    assert verdict.reason == "phases 0-6 passed; 3 items N/A: 0.3, 4.7, 5.3"
    result = rules.overall(items, rules.phase_results(items))
    assert result.not_applicable == [
        "0.3 Reconciled Payments Baseline: 0.3 NA",
        "4.7 No Orphaned Records: 4.7 NA",
        "5.3 Reconciliation Count: 5.3 NA",
    ]


def test_one_na_item_is_named_too():
    items = views_with(**{"6_3": NA})
    assert rules.verdict(items, rules.phase_results(items)).reason == "phases 0-6 passed; 1 item N/A: 6.3"


@pytest.mark.parametrize("item_id", [i.id for i in sc.TEMPLATE_ITEMS.values() if i.phase in rules.COUNTED_PHASES])
def test_an_item_that_could_not_run_is_never_go(item_id):
    """An ERROR proves nothing: whatever the item's severity, the verdict is not GO and names it."""
    items = views_with(**{item_id.replace(".", "_"): ERROR})
    phases = rules.phase_results(items)
    verdict = rules.verdict(items, phases)
    assert verdict.word == rules.NO_GO
    assert f"{item_id} ERROR" in verdict.reason  # the item and its one-line message ("<id> ERROR")
    assert phases[item_id.split(".")[0]].state == rules.PHASE_FAIL
    result = rules.overall(items, phases)
    assert result.status != rules.COMPLETE_SUCCESS
    assert any(issue.startswith(f"{item_id} ") and " ERROR: " in issue for issue in result.issues)


def test_an_error_after_the_deployment_says_not_verified():
    items = views_with(**{"5_3": ERROR, "6_3": ERROR})
    verdict = rules.verdict(items, rules.phase_results(items))
    assert verdict.word == rules.NO_GO
    assert verdict.reason == "not verified: 5.3 ERROR 5.3 ERROR; 6.3 ERROR 6.3 ERROR"


def test_a_data_loss_still_wins_over_an_error():
    items = views_with(**{"5_1": FAIL, "5_3": ERROR})
    assert rules.verdict(items, rules.phase_results(items)).word == rules.ROLLBACK


def test_a_damaged_state_is_moved_aside_never_over_another_file(tmp_path):
    import datetime as dt

    path = state.state_path(tmp_path, "d")
    now = dt.datetime.now(dt.UTC)
    decoys = {}
    for later in (0, 1, 2):  # the names this second and the next ones would take are already there
        stamp = (now + dt.timedelta(seconds=later)).strftime("%Y%m%dT%H%M%SZ")
        decoy = path.with_name(f"{path.name}.corrupt-{stamp}")
        decoy.write_text(f"earlier damaged state {later}")
        decoys[decoy] = decoy.read_text()
    path.write_text("{garbage")
    new = state.append_event(path, "d", {}, sc.run(("0",), 0), set_aside_damaged=True)
    moved = new["set_aside"][0]["path"]
    assert moved.endswith("-2") and Path(moved).read_text() == "{garbage"
    assert {p: p.read_text() for p in decoys} == decoys
    assert new["set_aside"][0]["reason"].startswith("not valid JSON")
    assert [e["seq"] for e in new["events"]] == [1]
    assert json.loads(path.read_text())["set_aside"] == new["set_aside"]


def test_a_damaged_state_is_refused_unless_set_aside_is_asked(tmp_path):
    path = state.state_path(tmp_path, "d")
    path.write_text("[]")
    with pytest.raises(state.DamagedState, match="holds a JSON list, not a deploylog state object"):
        state.append_event(path, "d", {}, sc.run(("0",), 0))
    assert path.read_text() == "[]" and len(list(tmp_path.iterdir())) == 2  # the state and its lock file


def test_the_log_redacts_in_one_place_the_state_write():
    """deploylog/log renders only what the state holds: state.py is the one module of the log that redacts."""
    log_dir = Path(state.__file__).parent
    redacting = sorted(p.name for p in log_dir.glob("*.py") if "deploylog.redact" in p.read_text(encoding="utf-8"))
    assert redacting == ["state.py"]


def test_everything_entering_the_state_is_redacted(tmp_path):
    path = state.state_path(tmp_path, "d")
    deployment = {"dsn": "host=db user=odoo password=hunter2"}
    state.append_event(path, "d", deployment, sc.run(("0",), 0, {"0.1": {"message": "PGPASSWORD=hunter2 psql"}}))
    path.write_text("{damaged: password=hunter2")
    state.append_event(path, "d", deployment, sc.run(("0",), 1), set_aside_damaged=True)
    assert "hunter2" not in path.read_text()
    assert json.loads(path.read_text())["deployment"]["dsn"] == "host=db user=odoo password=***"
    assert "hunter2" not in json.dumps(state.new_state("d", deployment))
