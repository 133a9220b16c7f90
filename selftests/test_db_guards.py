"""Issue 8.17: the guards' group lookup is the one group lookup, run in the session's snapshot, its SQL in the log."""

from __future__ import annotations

from pathlib import Path

from deploylog import db
from deploylog import spec as spec_mod
from deploylog.demo import module_repo as hr
from deploylog.hostchecks import guards
from selftests.support.host_spec import LOCAL

GUARDS = "4.2,4.3,4.4"


def repo_of(deployment) -> Path:
    return Path(deployment.config["paths"]["repo"])


def test_guard_groups_are_resolved_in_the_snapshot_and_the_sql_is_logged(deployment):
    hr.deploy(repo_of(deployment), admin_group="account.group_system")  # the real module's non-existent group
    spec = spec_mod.load(deployment.config_path)
    snap = db.open_snapshot(spec)
    try:
        result = guards.check_guard(spec, spec.guard_for("4.2"), snap, LOCAL)
    finally:
        snap.close()
    assert result.status == "FAIL" and result.item == "4.2"
    assert "names group(s) that do not exist: account.group_system" in result.message
    assert "account.group_system: DOES NOT EXIST (did you mean base.group_system?)" in result.evidence
    lookup = next(q for q in result.queries if "FROM ir_model_data d JOIN res_groups g" in q)
    assert "ANY('{account.group_system,payment_account_enhanced.group_payment_manager}')" in lookup  # as it ran
    assert any("FROM ir_model_data d JOIN res_groups g" in q for q in snap.log)  # it went through the snapshot


def test_guards_pass_without_membership_privileges(deployment, reader):
    """The guards need the groups to exist, not their members: a figure they do not read cannot fail them."""
    hr.deploy(repo_of(deployment))
    reader.as_owner("REVOKE SELECT ON res_groups_users_rel FROM {role}")
    run = deployment.run("--items", f"{GUARDS},4.6", f"--dsn={reader.dsn}")
    for item in GUARDS.split(","):
        assert run.status(item) == "PASS", (item, run.output)
    assert run.status("4.6") == "ERROR"
    queries = "\n".join(run.log()["items"]["4.2"]["queries"])
    assert "ANY('{base.group_system,payment_account_enhanced.group_payment_manager}')" in queries
