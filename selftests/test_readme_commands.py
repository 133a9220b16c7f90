"""The README's "Using it on a real deployment" command lines, run as written, on a demo-like deployment.

Set-up as the demo builds it (generated database on the embedded cluster, the module's git
checkout, the stand-in Odoo service with its pidfile and log, a nightly dump, P.1 recorded);
`DEPLOYLOG_CONFIG` points every command at it. Between the backup and the post run the test does
what the README's comment says the operator does: git pull, stop, clear caches, `-u`, start.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from deploylog import baseline as baseline_mod
from deploylog.demo import module_repo
from deploylog.demo.simulate import upgrade_module
from deploylog.hostchecks import take_backup
from deploylog.log import actions
from selftests.support import readme_usage
from selftests.support.host_scenario import Scenario
from selftests.support.suite import REPO

README = (REPO / "README.md").read_text()
DEPLOY_COMMENT = "# ... deploy:"


@pytest.fixture
def scenario(deployment, pg_cluster):
    s = Scenario(deployment, pg_cluster.bin_dir)
    deployment.configure(thresholds={"min_free_disk_gb": 1})  # a test host's disks are what they are
    yield s
    s.server.stop()


def prepare_t_minus_24h(scenario: Scenario) -> None:
    """What exists before the operator starts: a nightly dump, P.1 recorded, a stale asset cache, the service up."""
    spec = scenario.spec
    backups = Path(spec.paths.backup_dir)
    backups.mkdir(parents=True, exist_ok=True)
    take_backup.dump_database(spec, backups / f"{spec.database.name}_PRE_DEPLOY_nightly.dump")
    actions.record_manual(spec, "P.1", "PASS", "DevOps Test", notes="maintenance window e-mailed")
    (scenario.cache / "assets").mkdir(parents=True)
    (scenario.cache / "assets" / "web.assets_backend.js").write_text("// stale bundle\n")
    scenario.server.start()


def deploy_as_the_comment_says(scenario: Scenario, dsn: str) -> None:
    """git pull (the 17.0.1.0.9 commit), stop Odoo, clear caches, odoo -u, start; the log shows the restart."""
    scenario.started_at = baseline_mod.load(scenario.spec).started_at
    module_repo.deploy(scenario.repo)
    scenario.server.stop()
    shutil.rmtree(scenario.cache)
    upgrade_module(dsn, scenario.spec.deployment.expected_version)
    restart = scenario.restart()
    scenario.write_log(restart)


def test_usage_steps_are_parsed_as_the_operator_reads_them():
    steps = readme_usage.steps(README)
    commands = [" ".join(s.argv) for s in steps if s.is_command]
    assert commands[:3] == [".venv/bin/pytest -m preflight", ".venv/bin/pytest -m phase0", ".venv/bin/deploylog backup"]
    assert commands[-3:] == [".venv/bin/deploylog status", ".venv/bin/deploylog render", ".venv/bin/deploylog verify"]
    operator = [s.line for s in steps if not s.is_command]
    assert len(operator) == 1 and operator[0].startswith(DEPLOY_COMMENT)


def test_readme_usage_runs_as_written(scenario, odoo_db):
    prepare_t_minus_24h(scenario)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    env["DEPLOYLOG_CONFIG"] = str(scenario.d.config_path)
    ran: list[str] = []
    for step in readme_usage.steps(README):
        if not step.is_command:
            assert step.line.startswith(DEPLOY_COMMENT), step.line
            assert ran[-1] == ".venv/bin/deploylog backup", ran  # deployed after the backups, before post
            deploy_as_the_comment_says(scenario, odoo_db.dsn)
            continue
        done = subprocess.run(
            readme_usage.resolve(step.argv, REPO),
            cwd=REPO,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        command = " ".join(step.argv)
        assert done.returncode == 0, (command, (done.stdout + done.stderr)[-4000:])
        ran.append(command)
    assert ran[-1] == ".venv/bin/deploylog verify"
    assert "deploylog: verify OK" in done.stdout, done.stdout
    log = json.loads((Path(scenario.spec.paths.report_dir) / "execution-log.json").read_text())
    assert log["verdict"]["decision"] == "GO", log["verdict"]
    assert [(s["role"], s["name"], s["decision"]) for s in log["signoffs"]] == [("Finance Manager", "...", "APPROVE")]
    assert log["items"]["7.1"]["status"] == "PASS" and log["items"]["7.1"]["manual"]["tester"] == "A. Tester"
