"""Every `deploylog` subcommand takes the suite's configuration options (deploylog/options.py),
before or after its name, shows them in its --help, and talks to the operator in one redacted line."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

import pytest

from deploylog import cli, options
from deploylog.commands import common
from deploylog.log import actions
from selftests.support import log_pytester as lp
from selftests.support.host_scenario import Scenario

SECRET = lp.SECRET


def subcommands() -> list[str]:
    parser = cli.build_parser()
    found = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return sorted(found.choices)


def deploylog(*argv: str) -> int:
    return cli.main(list(argv))


@pytest.fixture
def elsewhere(tmp_path, monkeypatch):
    """A deploy.toml in its own directory; the commands run from another one (no deploy.toml there)."""
    config = tmp_path / "deployment" / "deploy.toml"
    config.parent.mkdir()
    config.write_text(lp.DEPLOY_TOML)
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    monkeypatch.chdir(cwd)
    monkeypatch.delenv(options.CONFIG_ENV, raising=False)
    return config


def status_of(capsys, *argv: str) -> str:
    capsys.readouterr()
    assert deploylog(*argv) == 0
    return capsys.readouterr().out


@pytest.mark.parametrize("command", subcommands())
def test_every_subcommand_shows_the_suites_configuration_options(command, capsys):
    with pytest.raises(SystemExit) as exited:
        deploylog(command, "--help")
    assert exited.value.code == 0
    help_text = capsys.readouterr().out
    assert common.CONFIG_GROUP + ":" in help_text
    for option in options.CONFIG_OPTIONS:
        assert f"  {option.flag} " in help_text, (command, option.flag)


def test_configuration_options_work_after_the_subcommand(elsewhere, capsys):
    out = status_of(capsys, "status", f"--deploy-config={elsewhere}", "--expected-version", "17.0.2.0.0", "--database=osus_copy")
    assert ": payment_account_enhanced 17.0.2.0.0 on osus_copy\n" in out
    assert deploylog("render", f"--deploy-config={elsewhere}", "--report-dir=here") == 0  # relative to the cwd, as for pytest
    written = {p.name for p in (Path.cwd() / "here").iterdir()}
    assert {"execution-log.html", "execution-log.json", "execution-log.md"} <= written
    assert not (elsewhere.parent / "reports").exists()


def test_after_the_subcommand_wins_and_set_adds_up(elsewhere, capsys):
    out = status_of(
        capsys,
        f"--deploy-config={elsewhere}",
        "--database=before",
        "--set",
        'deployment.module="mod_before"',
        "status",
        "--database=after",
        "--set",
        'deployment.expected_version="9.9"',
    )
    assert ": mod_before 9.9 on after" in out


def test_deploylog_config_names_the_deployment_and_the_option_wins(elsewhere, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv(options.CONFIG_ENV, str(elsewhere))
    assert " on osusproperties" in status_of(capsys, "status")
    other = tmp_path / "other.toml"
    other.write_text(lp.DEPLOY_TOML.replace('name = "osusproperties"', 'name = "from_the_option"'))
    assert " on from_the_option" in status_of(capsys, "status", f"--deploy-config={other}")


def test_a_bad_value_is_one_redacted_line_exit_2(elsewhere, capsys):
    assert deploylog("status", f"--deploy-config={elsewhere}", "--set", f'database.dsn=["postgresql://odoo:{SECRET}@db/x"]') == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("deploylog: error: ")
    assert "database.dsn: expected str, got list ['postgresql://odoo:***@db/x']" in err
    assert SECRET not in err


def test_an_unusable_report_dir_is_one_line_exit_2(elsewhere, capsys):
    blocker = Path.cwd() / "a-file"
    blocker.write_text("not a directory")
    assert deploylog("render", f"--deploy-config={elsewhere}", f"--report-dir={blocker}/reports") == 2
    err = capsys.readouterr().err
    assert err.startswith(f"deploylog: error: Not a directory: {blocker}/reports") and err.count("\n") == 1


def test_a_usage_error_is_redacted(elsewhere, capsys):
    with pytest.raises(SystemExit) as exited:
        deploylog("status", f"--deploy-config={elsewhere}", f"password={SECRET}")
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert "deploylog: error: unrecognized arguments: password=***" in err and SECRET not in err


def test_an_internal_error_is_one_redacted_line_exit_3(elsewhere, capsys, monkeypatch):
    def broken(*args: object, **kwargs: object) -> str:
        raise RuntimeError(f"connection to host=db password={SECRET} lost\nsecond line")

    monkeypatch.setattr(actions, "status_text", broken)  # a bug somewhere under the command
    assert deploylog("status", f"--deploy-config={elsewhere}") == 3
    err = capsys.readouterr().err
    assert err.startswith(
        "deploylog: error: internal error, please report it: RuntimeError: connection to host=db password=*** lost second line (at "
    )
    assert err.count("\n") == 1 and SECRET not in err and "Traceback" not in err


def test_backup_takes_the_options_after_the_subcommand_and_redacts_its_evidence(deployment, pg_cluster, odoo_db, tmp_path):
    """`deploylog backup --deploy-config=X --dsn=... --verify-restore`: the dump of the --dsn database, the restore's text redacted."""
    scenario = Scenario(deployment, pg_cluster.bin_dir)
    scenario.phase0()
    deployment.configure(database={"dsn": "host=nowhere.invalid dbname=nothing"})  # only the command line reaches the database
    dsn = f"{odoo_db.dsn} password={SECRET}"  # the cluster trusts local connections: the password is only carried along
    backups = tmp_path / "set-backups"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "deploylog",
            "backup",
            f"--deploy-config={deployment.config_path}",
            f"--dsn={dsn}",
            "--set",
            f"paths.backup_dir={json.dumps(str(backups))}",
            "--verify-restore",
            f"--restore-dsn={pg_cluster.dsn()} password={SECRET}",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert [line.split()[0] for line in done.stdout.splitlines()[:3]] == ["dump", "archive", "marker"]
    assert len(list(backups.glob(f"{odoo_db.name}_PRE_DEPLOY_*.dump"))) == 1
    assert done.stdout.rstrip().endswith("deploylog: restore verification OK")
    assert SECRET not in done.stdout + done.stderr
    restore_line = next(line for line in done.stdout.splitlines() if "pg_restore" in line)
    assert "password=" not in restore_line  # the password reaches pg_restore through a passfile, never argv
