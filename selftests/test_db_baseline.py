"""Issues 8.4 and 8.5: the baseline proves something only when it was taken before the deployment started,
and it always holds the code HEAD before, of every host."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

from deploylog import baseline as baseline_mod
from deploylog.demo import module_repo as hr
from deploylog.demo.simulate import upgrade_module
from selftests.support.host_sshd import Sshd

PHASE0 = "0.1,0.2,0.3,0.4"


def phase0(deployment, *extra):
    return deployment.run("-m", "phase0", "--items", PHASE0, *extra)


def stored(deployment):
    files = sorted((deployment.root / "baseline").glob("*.json"))
    return {p.name: p.read_bytes() for p in files}


# --- 8.4: no baseline once the deployment has started -------------------------------------------


def test_recapture_after_a_post_run_is_refused_and_the_baseline_kept(deployment, odoo_db):
    assert phase0(deployment).status("0.3") == "PASS"
    upgrade_module(odoo_db.dsn, "17.0.1.0.9")
    victim = odoo_db.scalar("SELECT max(id) FROM account_payment WHERE NOT is_reconciled")
    odoo_db.execute("DELETE FROM account_payment WHERE id = %s", (victim,))
    post = deployment.run("-m", "post", "--items", "5.1")
    assert post.status("5.1") == "FAIL"
    before = stored(deployment)

    again = phase0(deployment, "--recapture-baseline")
    assert again.status("0.3") == "FAIL", again.output
    message = again.message("0.3")
    assert "the deployment has started: the execution log already holds a run of phases 1-6 (run #2, `pytest -m post`" in message
    assert "the stored baseline is kept untouched" in message and "a new attempt needs a new [deployment] id" in message
    assert stored(deployment) == before  # untouched, nothing archived
    assert deployment.run("-m", "post", "--items", "5.1").status("5.1") == "FAIL"  # still compared with the real baseline


@pytest.mark.parametrize("kind", ["dump", "dump directory", "archive", "marker"])
def test_recapture_after_a_backup_is_refused(deployment, kind):
    assert phase0(deployment).status("0.3") == "PASS"
    backups = deployment.root / "backups"
    backups.mkdir()
    name = {
        "dump": f"{deployment.config['database']['name']}_PRE_DEPLOY_20991231_000000.dump",
        "dump directory": f"{deployment.config['database']['name']}_PRE_DEPLOY_20991231_000000.dump",
        "archive": "payment_account_enhanced_20991231_000000.tar.gz",
        "marker": "DEPLOYMENT_SNAPSHOT_20991231_000000",
    }[kind]
    if kind == "dump directory":  # pg_dump --format=directory, the default of `deploylog backup`
        (backups / name).mkdir()
        (backups / name / "toc.dat").write_bytes(b"backup")
    else:
        (backups / name).write_bytes(b"backup")
    before = stored(deployment)
    again = phase0(deployment, "--recapture-baseline")
    assert again.status("0.3") == "FAIL", again.output
    assert f"the deployment has started: backup {backups / name} on local (written " in again.message("0.3")
    assert "is newer than the baseline's phase 0 (" in again.message("0.3")
    assert stored(deployment) == before


def test_recapture_with_an_older_backup_is_accepted(deployment, odoo_db):
    """A nightly dump from before phase 0 is not this deployment's backup."""
    backups = deployment.root / "backups"
    backups.mkdir()
    nightly = backups / f"{deployment.config['database']['name']}_PRE_DEPLOY_nightly.dump"
    nightly.write_bytes(b"old")
    past = time.time() - 3600
    os.utime(nightly, (past, past))
    assert phase0(deployment).status("0.3") == "PASS"
    odoo_db.execute("DELETE FROM account_payment WHERE id = (SELECT max(id) FROM account_payment WHERE NOT is_reconciled)")
    again = phase0(deployment, "--recapture-baseline")
    assert again.status("0.3") == "PASS", again.output
    assert list((deployment.root / "baseline").glob("*.superseded-*.json"))


def test_no_first_baseline_after_a_post_run(deployment, odoo_db):
    """Deleting the baseline after the deployment and running phase 0 again must not make the damage the reference."""
    assert phase0(deployment).status("0.3") == "PASS"
    deployment.run("-m", "post", "--items", "4.1")
    for path in (deployment.root / "baseline").iterdir():
        if path.is_file():
            path.unlink()
    run = phase0(deployment)
    assert run.status("0.3") == "FAIL", run.output
    assert "no baseline is written" in run.message("0.3")
    assert not stored(deployment)


def test_mismatching_baseline_after_the_start_does_not_advise_recapture(deployment, odoo_db):
    assert phase0(deployment).status("0.3") == "PASS"
    deployment.run("-m", "post", "--items", "4.1")
    odoo_db.execute("DELETE FROM account_payment WHERE id = (SELECT max(id) FROM account_payment WHERE NOT is_reconciled)")
    run = phase0(deployment)
    assert run.status("0.3") == "FAIL"
    assert "--recapture-baseline" not in run.message("0.3")
    assert "a new attempt needs a new [deployment] id" in run.message("0.3")


# --- 8.5: HEAD before is part of the baseline ------------------------------------------------------


@pytest.mark.parametrize("repo", ["", "missing", "plain-dir"])
def test_phase0_fails_when_the_head_cannot_be_recorded(deployment, repo):
    path = {"": "", "missing": str(deployment.root / "nowhere"), "plain-dir": str(deployment.root)}[repo]
    deployment.configure(paths={"repo": path})
    run = phase0(deployment)
    assert run.status("0.3") == "FAIL", run.output
    assert "[paths] repo" in run.message("0.3")
    assert {
        "": "[paths] repo is not set in deploy.toml: the HEAD before the deployment cannot be recorded",
        "missing": f"[paths] repo = '{path}' is not a directory on local",
        "plain-dir": f"[paths] repo = '{path}' on local is not a git checkout with a commit",
    }[repo] in run.message("0.3")
    assert run.log()["verdict"]["decision"] == "NO-GO"
    assert not stored(deployment)


def test_the_baseline_records_head_per_host_and_2_1_reads_its_own(deployment, tmp_path_factory):
    reason = Sshd.unavailable()
    if reason:
        pytest.skip(f"ssh backend not testable here: {reason}")
    sshd = Sshd(tmp_path_factory.mktemp("sshd")).start()
    try:
        hosts = [f"--hosts=local://,{sshd.hostspec}", f"--ssh-config={sshd.config}"]
        assert phase0(deployment, *hosts).status("0.3") == "PASS"
        repo = deployment.config["paths"]["repo"]
        head = hr.git(Path(repo), "rev-parse", "HEAD")
        data = json.loads(next((deployment.root / "baseline").glob("*.json")).read_text())
        assert data["format"] == 3
        assert data["code"]["hosts"] == {
            "local": {"head": head, "branch": "17.0"},
            "ssh://127.0.0.1": {"head": head, "branch": "17.0"},
        }
        hr.deploy(Path(repo))
        run = deployment.run("-m", "post", "--items", "2.1", *hosts)
        assert [s for s, _ in run.outcomes["2.1"]] == ["PASS", "PASS"], run.output
    finally:
        sshd.stop()


def test_a_format_1_baseline_is_refused_with_one_line(deployment):
    assert phase0(deployment).status("0.3") == "PASS"
    path = next((deployment.root / "baseline").glob("*.json"))
    data = json.loads(path.read_text())
    data["format"] = 1
    data["code"] = {"repo": data["code"]["repo"], "head": "0" * 40, "branch": "17.0"}
    data["digest"] = baseline_mod.canonical_digest(data)
    path.write_text(json.dumps(data))
    run = deployment.run("-m", "post", "--items", "2.1,5.1")
    for item in ("2.1", "5.1"):
        assert run.status(item) == "ERROR", run.output
        assert "is format 1 (no HEAD per host) and cannot be used" in run.message(item)
        assert "a new [deployment] id" in run.message(item)
    assert "Traceback" not in run.output
