"""The five scenarios of the execution log, rendered and checked in Markdown and JSON."""

from __future__ import annotations

import json
import re

import pytest

from deploylog.log import render_html, render_json, render_md
from selftests.support import log_scenarios as sc


def rendered(state):
    view = sc.view(state)
    return view, render_md.render(view), json.loads(render_json.render(view))


def block(md: str, item_id: str) -> str:
    """The Markdown block of one item (from its heading to the next heading)."""
    match = re.search(rf"^### \w+ {re.escape(item_id)}: .*?(?=^### |^\*\*Phase|^## )", md, re.S | re.M)
    assert match, f"no block for {item_id}"
    return match.group(0)


def status_line(md: str, item_id: str) -> str:
    return next(line for line in block(md, item_id).splitlines() if line.startswith("Status:"))


def test_all_pass_ticks_every_pass_box_and_no_fail_box():
    view, md, doc = rendered(sc.all_pass())
    assert doc["overall"] == "COMPLETE SUCCESS" and doc["overall_final"] is True
    assert {i["status"] for i in doc["items"].values()} == {"PASS"}
    assert "☑ ✅ **COMPLETE SUCCESS**" in md and "☐ ⚠️ **MINOR ISSUES**" in md and "☐ ❌ **CRITICAL FAILURE**" in md
    for item in sc.TEMPLATE_ITEMS.values():
        if item.phase in ("P", "7"):
            continue
        line = status_line(md, item.id)
        assert "☐" in line and "☑" in line, line
        assert re.fullmatch(r"Status: (☑ [^☐☑]+)+(☐ [^☐☑]+)+", line.strip()), line  # pass boxes ticked, fail boxes not
    assert "Phases Completed: 7 / 7" in md
    assert "Tests Passed: 42 / 42" in md  # 40 rows of the template + P.7 + 4.9
    assert "Critical Issues: 0" in md
    assert "**Phase 0 Result**: ☑ ALL PASS → Proceed ☐ FAIL → ABORT & ROLLBACK" in md
    assert "**Phase 4 Result**: ☑ 8/8 TESTS PASS ☐ SOME TESTS FAIL" in md  # 4.1-4.7 and 4.9
    assert "**Phase 5 Result**: ☑ ALL DATA INTACT ☐ DATA LOSS DETECTED (ROLLBACK!)" in md
    assert {s["score"] for s in doc["scores"].values()} == {5}
    assert md.count("☑ 5/5") == 6
    assert doc["verdict"]["decision"] == "GO"
    assert md.count("| ☑ APPROVE") == 3
    assert "Pre-deployment count: 120\nPost-deployment count: 120\nDifference: +0" in block(md, "5.4")
    assert view.duration_minutes == 33  # first phase 0 run start (60) to last post run end (93)


def test_phase0_abort():
    _view, md, doc = rendered(sc.phase0_abort())
    assert doc["overall"] == "CRITICAL FAILURE"
    assert "☑ ❌ **CRITICAL FAILURE**" in md and "☐ ✅ **COMPLETE SUCCESS**" in md
    assert "**Phase 0 Result**: ☐ ALL PASS → Proceed ☑ FAIL → ABORT & ROLLBACK" in md
    assert status_line(md, "0.1") == "Status: ☐ PASS ☑ FAIL"
    assert status_line(md, "0.2") == "Status: ☑ PASS ☐ FAIL"
    assert status_line(md, "1.1") == "Status: ☐ CREATED ☐ VERIFIED ☐ FAILED — NOT RUN"
    assert doc["items"]["0.1"]["status"] == "FAIL"
    assert doc["items"]["1.1"]["status"] == "SKIP"
    assert doc["items"]["7.1"]["status"] == "MANUAL"
    assert doc["verdict"]["decision"] == "NO-GO" and "ABORT" in doc["verdict"]["reason"]
    assert doc["critical_issues"][0] == "Phase 0 failed → ABORT & ROLLBACK"
    assert doc["scores"]["Data Integrity"]["score"] == 1
    assert doc["scores"]["Overall"]["score"] == 1
    assert "**Phase 1 Result**: ☐ ALL BACKUPS OK → Proceed ☐ BACKUP FAILED → ABORT" in md
    assert "Phases Completed: 0 / 7" in md  # phase 0 failed; P (T-24h) is not one of the seven


def test_phase5_data_loss_names_the_dump():
    _view, md, doc = rendered(sc.phase5_data_loss())
    assert doc["overall"] == "CRITICAL FAILURE"
    assert doc["verdict"]["decision"] == "ROLLBACK"
    assert sc.DUMP in doc["verdict"]["reason"]
    line = next(x for x in md.splitlines() if x.startswith("**Phase 5 Result**"))
    assert line.startswith("**Phase 5 Result**: ☐ ALL DATA INTACT ☑ DATA LOSS DETECTED (ROLLBACK!)")
    assert f"restore {sc.DUMP}" in line
    assert status_line(md, "5.4") == "Status: ☐ MATCH ☑ MISMATCH (CRITICAL!)"
    assert status_line(md, "5.1") == "Status: ☑ MATCH ☐ MISMATCH (DATA LOSS!)"
    assert "Pre-deployment count: 120\nPost-deployment count: 119\nDifference: -1" in block(md, "5.4")
    assert doc["items"]["5.4"]["figures"]["comparisons"] == [{"label": "count", "baseline": 120, "current": 119}]
    assert doc["scores"]["Data Integrity"]["score"] == 1
    assert "DATA LOSS DETECTED in 5.4" in doc["critical_issues"][0]


def test_phase5_dump_falls_back_when_1_1_recorded_no_path():
    state = sc.phase5_data_loss()
    for event in state["events"]:
        for entry in event.get("results", []):
            if entry["item"] == "1.1":
                entry["figures"] = {}
    _, _, doc = rendered(state)
    assert "restore the phase 1 dump" in doc["verdict"]["reason"]


def test_phase7_pending_is_provisional_and_unticked():
    _view, md, doc = rendered(sc.phase7_pending())
    assert [doc["items"][f"7.{n}"]["status"] for n in range(1, 6)] == ["MANUAL"] * 5
    assert doc["overall"] == "MINOR ISSUES" and doc["overall_final"] is False
    assert doc["pending"] == ["7.1", "7.2", "7.3", "7.4", "7.5"]
    for status in ("COMPLETE SUCCESS", "MINOR ISSUES", "CRITICAL FAILURE"):
        assert f"☐ {render_md.OVERALL_TEXT[status]}" in md  # not decided: nothing ticked
    assert "**Provisional**: MINOR ISSUES — 5 item(s) not decided yet: 7.1, 7.2, 7.3, 7.4, 7.5" in md
    assert "Status: ☐ PASS ☐ FAIL — PENDING (manual)" in block(md, "7.1")
    assert doc["verdict"]["decision"] == "GO" and "still to do: phase 7" in doc["verdict"]["reason"]
    assert "Phases Completed: 7 / 7" in md and "Tests Passed: 37 / 42" in md
    functional = next(x for x in md.splitlines() if x.startswith("| Functional Tests"))
    assert "☑" not in functional and "provisional 5/5" in functional
    code = next(x for x in md.splitlines() if x.startswith("| Code Deployment"))
    assert "☑ 5/5" in code
    assert "☑" not in next(x for x in md.splitlines() if x.startswith("| **Overall**"))


def test_rerun_after_failure_keeps_the_attempt_history():
    _view, md, doc = rendered(sc.rerun_after_failure())
    assert doc["items"]["5.1"]["status"] == "PASS"
    attempts = doc["items"]["5.1"]["attempts"]
    assert [(a["run"], a["status"]) for a in attempts] == [("run 3", "FAIL")]
    assert "Earlier attempts:\n- run 3 2025-12-22 10:30:" in block(md, "5.1")
    assert "FAIL — payments 149 != baseline 150 (-1)" in block(md, "5.1")
    assert doc["items"]["3.4"]["attempts"][0]["status"] == "ERROR"
    assert doc["overall"] == "MINOR ISSUES"  # phase 7 still pending, nothing failing now
    assert doc["verdict"]["decision"] == "GO"
    assert [r["number"] for r in doc["runs"]] == [1, 2, 3, 4]
    assert "Ran: run 4" in block(md, "5.1")


def test_error_is_fail_in_the_json_contract_with_the_detail_kept():
    state = sc.state_of(sc.run(("0",), 0, {"0.2": {"status": "ERROR", "message": "database unreachable"}}))
    _, md, doc = rendered(state)
    assert doc["items"]["0.2"]["status"] == "FAIL"
    assert doc["items"]["0.2"]["detail_status"] == "ERROR"
    assert status_line(md, "0.2") == "Status: ☐ PASS ☑ FAIL — (ERROR: the check could not run)"


def test_json_contract_shape():
    _, _, doc = rendered(sc.phase7_pending())
    assert set(doc["items"]) == set(sc.TEMPLATE_ITEMS)
    for item in doc["items"].values():
        assert item["status"] in {"PASS", "FAIL", "SKIP", "NA", "MANUAL"}
        assert {"title", "evidence"} <= set(item)
    assert doc["overall"] in {"COMPLETE SUCCESS", "MINOR ISSUES", "CRITICAL FAILURE"}
    assert re.fullmatch(r"[0-9a-f]{64}", doc["digest"])


def test_never_run_log_ticks_nothing():
    _, md, doc = rendered(sc.state_of())
    assert "☑" not in md
    assert {i["status"] for i in doc["items"].values()} == {"SKIP", "MANUAL"}
    assert doc["verdict"]["decision"] == "NO-GO"


@pytest.mark.parametrize("scenario", ["all_pass", "phase0_abort", "phase5_data_loss", "phase7_pending", "rerun_after_failure"])
def test_rendering_is_deterministic(scenario):
    state = getattr(sc, scenario)()
    assert render_md.render(sc.view(state)) == render_md.render(sc.view(json.loads(json.dumps(state))))


def test_na_items_are_named_in_the_final_results_and_the_verdict():
    na = {"status": "NA", "message": "reconciliation table absent in this database"}
    state = sc.state_of(
        sc.run(sc.PHASE_RUNS["preflight"], 0),
        sc.run(sc.PHASE_RUNS["phase0"], 60, {"0.3": na}),
        sc.run(sc.PHASE_RUNS["post"], 90, {"4.7": na, "5.3": na}),
    )
    view, md, doc = rendered(state)
    assert doc["verdict"] == {"decision": "GO", "reason": "phases 0-6 passed; 3 items N/A: 0.3, 4.7, 5.3; still to do: phase 7"}
    named = [
        "0.3 Reconciled Payments Baseline: reconciliation table absent in this database",
        "4.7 No Orphaned Records: reconciliation table absent in this database",
        "5.3 Reconciliation Count: reconciliation table absent in this database",
    ]
    assert doc["not_applicable"] == named
    final = md[md.index("## 📈 FINAL RESULTS") :]
    assert "**Verdict**: **deploylog: GO — phases 0-6 passed; 3 items N/A: 0.3, 4.7, 5.3; still to do: phase 7**" in final
    assert "Not Applicable:\n" + "\n".join(f"{n}. {text}" for n, text in enumerate(named, 1)) + "\n" in final
    html = render_html.render(view)
    final_html = html[html.index("<h2>Final Results</h2>") :]
    assert "<tr><th>Not Applicable</th><td><ol><li>0.3 Reconciled Payments Baseline: reconciliation table absent" in final_html


def test_final_results_without_na_items_add_no_line():
    _view, md, doc = rendered(sc.all_pass())
    assert doc["not_applicable"] == []
    assert "Not Applicable:" not in md
