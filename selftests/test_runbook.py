"""A deployment's runbook holds the built-in items deploy.toml declares what they need for (catalogue.toml `needs`):
without [groups] there is no P.6, 0.4, 4.6 at all — not collected, not in the log, its header says why — and
P.7 asks for no table only they read; the shipped deploy.toml holds every item."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from deploylog import catalogue, runbook
from deploylog import spec as spec_mod
from deploylog.log import render_html, render_json, render_md, shape, state
from selftests.support import log_scenarios as sc

REPO = Path(__file__).resolve().parents[1]
GROUP_ITEMS = ("P.6", "0.4", "4.6")
NO_GROUPS = "deploy.toml has no [groups]"


def shipped() -> dict:
    return tomllib.loads((REPO / "deploy.toml").read_text())


# --- which items: the catalogue's needs against deploy.toml (no database) --------------------------


def test_the_shipped_deploy_toml_holds_every_built_in_item():
    spec = spec_mod.build(shipped())
    assert runbook.not_in_runbook(spec) == {}
    assert runbook.holds(spec) == list(catalogue.ITEMS)


@pytest.mark.parametrize(
    ("drop", "left_out"),
    [
        ("groups", {"P.6": NO_GROUPS, "0.4": NO_GROUPS, "4.6": NO_GROUPS}),
        ("approval", dict.fromkeys(("0.1", "4.5"), "deploy.toml has no [approval]")),
        ("reconciliation", dict.fromkeys(("0.2", "4.7"), "deploy.toml has no [reconciliation]")),
        ("guards", {i: f"deploy.toml has no [[guards]] entry for item {i}" for i in ("4.2", "4.3", "4.4")}),
    ],
)
def test_an_absent_section_leaves_out_exactly_the_items_that_need_it(drop, left_out):
    raw = shipped()
    del raw[drop]
    raw["protect"] = [p for p in raw["protect"] if "{reconciliation." not in str(p)] if drop == "reconciliation" else raw["protect"]
    spec = spec_mod.build(raw)
    assert runbook.not_in_runbook(spec) == left_out
    assert set(runbook.holds(spec)) == set(catalogue.ITEMS) - set(left_out)


def test_a_guard_entry_brings_in_only_its_own_item():
    raw = shipped()
    raw["guards"] = [g for g in raw["guards"] if g["item"] == "4.3"]
    assert set(runbook.not_in_runbook(spec_mod.build(raw))) == {"4.2", "4.4"}


def test_the_header_groups_the_items_of_one_reason_in_the_logs_order():
    raw = shipped()
    del raw["groups"], raw["approval"]
    lines = runbook.grouped(runbook.not_in_runbook(spec_mod.build(raw)))
    assert lines == ["P.6, 0.4, 4.6: deploy.toml has no [groups]", "0.1, 4.5: deploy.toml has no [approval]"]


def test_the_payment_defaults_are_gone_from_the_engine():
    """A section, when given, names its own tables and groups: nothing payment-specific is assumed."""
    with pytest.raises(spec_mod.SpecError, match=r"missing required key groups\.manager"):
        spec_mod.build({**shipped(), "groups": {"reviewer": "x.y"}})
    with pytest.raises(spec_mod.SpecError, match=r"missing required key approval\.payment_states"):
        spec_mod.build({**shipped(), "approval": {}})
    with pytest.raises(spec_mod.SpecError, match=r"missing required key reconciliation\.table"):
        spec_mod.build({**shipped(), "reconciliation": {"optional": True}})
    bare = spec_mod.build({"deployment": {"module": "m", "expected_version": "1"}, "database": {"name": "d"}})
    assert (bare.groups, bare.approval, bare.reconciliation) == (None, None, None)
    assert "groups" not in bare.as_dict() and spec_mod.build(bare.as_dict()) == bare


def test_a_protected_set_naming_the_reconciliation_tables_needs_the_section():
    raw = shipped()
    del raw["reconciliation"]
    with pytest.raises(spec_mod.SpecError, match=r"uses \{reconciliation\.table\}, but deploy.toml has no \[reconciliation\] section"):
        spec_mod.build(raw)


def test_every_need_of_the_catalogue_is_something_deploy_toml_can_declare():
    assert set(catalogue.NEEDS.values()) == {"groups", "approval", "reconciliation", "guards"}
    assert set(catalogue.NEEDS) == {"P.6", "0.4", "4.6", "0.1", "4.5", "0.2", "4.7", "4.2", "4.3", "4.4"}


# --- the log: an item left out is in no section, score or total; the header says why ----------------


def test_a_left_out_item_is_not_in_the_log_and_the_header_says_why(tmp_path):
    reasons = {i: NO_GROUPS for i in GROUP_ITEMS}
    left_out = sc.run(sc.PHASE_RUNS["phase0"], 60)
    left_out["results"] = [r for r in left_out["results"] if r["item"] != "0.4"]
    left_out["not_in_runbook"] = reasons
    view = sc.view(sc.state_of(left_out))
    assert not set(GROUP_ITEMS) & set(view.items)
    assert view.not_in_runbook == reasons
    assert view.not_in_runbook_lines == ["P.6, 0.4, 4.6: deploy.toml has no [groups]"]
    assert view.summary.tests_total == len(catalogue.ITEMS) - 3
    assert view.phases["0"].state == "PASS"  # 0.1-0.3 passed: nothing of phase 0 is pending
    assert "**Not in this runbook**: P.6, 0.4, 4.6: deploy.toml has no [groups]  " in render_md.render(view)
    assert "<dt>Not in this runbook</dt><dd>P.6, 0.4, 4.6: deploy.toml has no [groups]</dd>" in render_html.render(view)
    doc = render_json.document(view)
    assert doc["not_in_runbook"] == reasons and "0.4" not in doc["items"]


def test_a_result_recorded_for_an_item_is_never_hidden_by_a_later_runbook():
    earlier = sc.run(sc.PHASE_RUNS["phase0"], 60, {"0.4": {"status": "FAIL", "message": "no manager"}})
    later = sc.run(("1",), 90)
    later["not_in_runbook"] = {i: NO_GROUPS for i in GROUP_ITEMS}
    view = sc.view(sc.state_of(earlier, later))
    assert view.items["0.4"].status == "FAIL"
    assert view.not_in_runbook == {"P.6": NO_GROUPS, "4.6": NO_GROUPS}


def test_a_state_whose_reasons_are_not_text_is_refused_before_rendering():
    run = sc.run(("0",), 60)
    run["not_in_runbook"] = {"0.4": 7}
    found = shape.problem(sc.state_of(run), state.FORMAT, ("run", "manual", "signoff", "incident", "attachment"))
    assert found == "event seq 1 (run): not_in_runbook['0.4'] is int 7, expected str"


# --- the real suite, on a real database --------------------------------------------------------------


def test_without_groups_the_group_items_are_not_collected_and_p7_asks_for_no_membership(deployment, reader):
    """Both ways against P.7: a role that may not read group memberships passes P.7 without [groups], fails it with."""
    reader.as_owner("REVOKE SELECT ON res_groups_users_rel FROM {role}")
    groups = deployment.config.pop("groups")
    run = deployment.configure().run("--items", "P.6,P.7,0.1,0.4,4.6", f"--dsn={reader.dsn}")
    assert set(run.outcomes) == {"P.7", "0.1"}, run.output  # P.6, 0.4, 4.6: never collected
    listed = deployment.run("--collect-only").output
    assert "test_payment_state_distribution" in listed and "test_user_permissions" not in listed
    assert "test_payment_manager_group" not in listed and "(3 deselected)" in listed  # P.6 and 4.6 have tests of that name
    assert run.status("P.7") == "PASS", run.message("P.7")
    log = run.log()
    assert log["not_in_runbook"] == dict.fromkeys(GROUP_ITEMS, NO_GROUPS)
    assert not set(GROUP_ITEMS) & set(log["items"])
    assert "res_groups_users_rel" not in log["items"]["P.7"]["evidence"]
    assert "res_groups: id, name" in log["items"]["P.7"]["evidence"]  # the guards still resolve their group XML ids
    md = (deployment.report_dir / "execution-log.md").read_text()
    assert "**Not in this runbook**: P.6, 0.4, 4.6: deploy.toml has no [groups]  " in md
    html = (deployment.report_dir / "execution-log.html").read_text()
    assert "<dt>Not in this runbook</dt><dd>P.6, 0.4, 4.6: deploy.toml has no [groups]</dd>" in html

    with_groups = deployment.configure(groups=groups).run("--items", "P.6,P.7,0.4", f"--dsn={reader.dsn}")
    assert with_groups.status("P.7") == "FAIL" and reader.grant("res_groups_users_rel") in with_groups.message("P.7")
    assert with_groups.status("0.4") == "ERROR" and with_groups.status("P.6") == "ERROR"
    log = with_groups.log()
    assert log["not_in_runbook"] == {} and set(GROUP_ITEMS) <= set(log["items"])
    assert "Not in this runbook" not in (deployment.report_dir / "execution-log.md").read_text()
