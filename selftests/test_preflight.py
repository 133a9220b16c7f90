"""T-24h items (P.1-P.7) through the real suite: PASS on a healthy installation, FAIL on each fault."""

from __future__ import annotations

import dataclasses
import gzip
import shutil
import subprocess

import pytest

from deploylog.demo import module_repo as hr
from deploylog.log import actions
from deploylog.spec import Backup
from selftests.support.host_scenario import Scenario

ITEMS = "P.1,P.2,P.3,P.4,P.5,P.6,P.7"


@pytest.fixture
def ready(deployment, pg_cluster):
    """A running service, a readable nightly dump, the checkout on 17.0, small disk threshold."""
    s = Scenario(deployment, pg_cluster.bin_dir)
    deployment.configure(thresholds={"min_free_disk_gb": 0.001})
    s.server.start()
    (deployment.root / "backups").mkdir()
    from deploylog.hostchecks import take_backup

    # a nightly cron job's `pg_dump -Fc` (the template's format); directory dumps have a test of their own
    take_backup.dump_database(dataclasses.replace(s.spec, backup=Backup(format="custom")), nightly(deployment))
    yield s
    s.server.stop()


def nightly(deployment):
    return deployment.root / "backups" / f"{deployment.config['database']['name']}_PRE_DEPLOY_nightly.dump"


def preflight(deployment, *extra):
    return deployment.run("-m", "preflight", "--items", ITEMS, *extra)


def test_healthy_installation_passes_preflight(ready, deployment):
    run = preflight(deployment)
    assert run.status("P.1") == "MANUAL"  # pending until recorded
    assert {i: run.status(i) for i in ITEMS.split(",")[1:]} == dict.fromkeys(ITEMS.split(",")[1:], "PASS"), run.output
    assert run.log()["items"]["P.1"]["status"] == "MANUAL"
    actions.record_manual(ready.spec, "P.1", "PASS", "Ops", notes="mail sent")
    assert preflight(deployment).status("P.1") == "PASS"


def test_recorded_failure_of_p1_fails(ready, deployment):
    actions.record_manual(ready.spec, "P.1", "FAIL", "Ops", notes="mailing list bounced")
    run = preflight(deployment)
    assert run.status("P.1") == "FAIL"
    assert "mailing list bounced" in run.message("P.1")


def test_truncated_nightly_dump_fails_p2(ready, deployment):
    dump = nightly(deployment)
    dump.write_bytes(dump.read_bytes()[: dump.stat().st_size // 2])
    run = preflight(deployment)
    assert run.status("P.2") == "FAIL"
    assert "truncated" in run.message("P.2")


def test_nightly_dump_of_another_database_fails_p2_naming_it(ready, deployment, pg_cluster, odoo_template):
    dump = nightly(deployment)  # the right name, another database's content (its header says which)
    subprocess.run(
        [str(pg_cluster.bin_dir / "pg_dump"), "--format=custom", f"--file={dump}", pg_cluster.dsn(odoo_template)], check=True
    )
    run = preflight(deployment)
    assert run.status("P.2") == "FAIL"
    name = deployment.config["database"]["name"]
    assert f"dump is of database {odoo_template!r} (read from its header), not {name!r} [database] name" in run.message("P.2")
    entry = run.log()["items"]["P.2"]
    assert f"dbname: {odoo_template}  (expected {name}, [database] name)" in str(entry)


def test_no_dump_fails_p2(ready, deployment):
    nightly(deployment).unlink()
    run = preflight(deployment)
    assert run.status("P.2") == "FAIL"
    assert "[P.2]" in run.message("P.2")


def test_wrong_branch_fails_p3(ready, deployment):
    hr.git(ready.repo, "checkout", "-q", "-b", "feature/experiment")
    run = preflight(deployment)
    assert run.status("P.3") == "FAIL"
    assert "on branch 'feature/experiment', expected '17.0'" in run.message("P.3")


def test_not_a_repository_fails_p3(ready, deployment):
    deployment.configure(paths={"repo": str(deployment.root)})
    run = preflight(deployment)
    assert run.status("P.3") == "FAIL"
    assert "not a readable git repository" in run.message("P.3")


def test_unreachable_remote_fails_p3(ready, deployment):
    hr.git(ready.repo, "remote", "add", "origin", str(deployment.root / "gone.git"))
    run = preflight(deployment)
    assert run.status("P.3") == "FAIL"
    assert "remote origin does not answer" in run.message("P.3")


def test_too_little_disk_fails_p4(ready, deployment):
    run = preflight(deployment, "--set", "thresholds.min_free_disk_gb=1000000")
    assert run.status("P.4") == "FAIL"
    assert "expected > 1000000 GB" in run.message("P.4")


def test_stopped_service_fails_p5(ready, deployment):
    ready.server.stop()
    run = preflight(deployment)
    assert run.status("P.5") == "FAIL"
    assert "is not running" in run.message("P.5")


def test_empty_manager_group_fails_p6(ready, deployment, odoo_db):
    odoo_db.execute("DELETE FROM res_groups_users_rel WHERE gid = 16")
    run = preflight(deployment)
    assert run.status("P.6") == "FAIL"
    assert "Payment Manager has 0 active member(s)" in run.message("P.6")


def test_nightly_directory_dump_passes_p2_and_a_changed_file_fails_it(ready, deployment):
    from deploylog.hostchecks import take_backup

    dump = nightly(deployment)
    dump.unlink()
    take_backup.dump_database(ready.spec, dump)  # the default: pg_dump -Fd with its SHA256SUMS
    assert dump.is_dir()
    run = preflight(deployment)
    assert run.status("P.2") == "PASS", run.message("P.2")
    assert "each compared with SHA256SUMS" in str(run.log()["items"]["P.2"])
    victim = next(f for f in sorted(dump.iterdir()) if f.name.endswith(".dat.gz"))
    victim.write_bytes(gzip.compress(b""))  # still a readable gzip: only the manifest knows it changed
    run = preflight(deployment)
    assert run.status("P.2") == "FAIL"
    assert f"(sha256 differs from SHA256SUMS): {victim.name}" in run.message("P.2")
    shutil.rmtree(dump)
