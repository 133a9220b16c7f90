"""`deploylog init`: a starting deploy.toml from a real git repository (two commits made here) and a real database.

The values come out right (versions at both refs, the changed files, the groups, the database and its
Odoo version), the file loads as the suite loads it, and phase 0 runs on it through the real suite; every
way it cannot be written (a bad ref, a manifest that is not a literal, an unknown module, an unreachable
database, an existing file) is one line and exit 2, with nothing written.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from psycopg.conninfo import conninfo_to_dict

from deploylog import cli
from deploylog import spec as spec_mod
from deploylog.demo import module_repo
from deploylog.starter import template
from selftests.support.suite import REPO, SuiteRun, parse_junit

MODULE = module_repo.MODULE
PAYMENT_GROUPS = [
    f"{MODULE}.group_payment_{role}" for role in ("approver", "authorizer", "manager", "poster", "reviewer", "user", "verifier")
]
# The [[protect]] keys of the contract (notes/protect-contract.md).
PROTECT_KEYS = {
    "name",
    "item",
    "title",
    "severity",
    "expected",
    "optional",
    "table",
    "id",
    "columns",
    "join",
    "where",
    "query",
    "params",
    "counts",
}


def deploylog(*argv: str) -> int:
    return cli.main(list(argv))


def errors(capsys: pytest.CaptureFixture[str]) -> list[str]:
    return capsys.readouterr().err.strip().splitlines()


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    for name in [k for k in os.environ if k.startswith("PG")]:
        monkeypatch.delenv(name)  # the database is the one --dsn names, nothing else
    return tmp_path


@pytest.fixture
def demo_repo(workdir: Path) -> tuple[Path, str]:
    """The demo module's repository: 17.0.1.0.8, then the 17.0.1.0.9 deployment commit (HEAD)."""
    repo, before = module_repo.build_repo(workdir / "code")
    module_repo.deploy(repo)
    return repo, before


def init(repo: Path, before: str, dsn: str, *extra: str, module: str = MODULE, to: str = "HEAD") -> int:
    return deploylog("init", "--module", module, "--repo", str(repo), "--from", before, "--to", to, f"--dsn={dsn}", *extra)


def run_suite(config: Path, *args: str) -> SuiteRun:
    """The log suite on `config`, in a subprocess, as an operator runs it (as selftests/support/suite.py does)."""
    junit = config.parent / "junit.xml"
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    done = subprocess.run(
        [sys.executable, "-m", "pytest", *args, f"--deploy-config={config}", f"--junitxml={junit}", "-q", "-p", "no:randomly"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
        check=False,
    )
    outcomes = parse_junit(junit) if junit.exists() else {}
    return SuiteRun(done.returncode, done.stdout + done.stderr, outcomes, config.parent / "reports")


def commit(repo: Path, files: dict[str, str], message: str) -> str:
    for rel, text in files.items():
        module_repo.write(repo, rel, text)
    module_repo.git(repo, "add", "-A")
    module_repo.git(repo, "commit", "-q", "-m", message)
    return module_repo.git(repo, "rev-parse", "HEAD")


def small_repo(root: Path, module: str, old: str, new: str, *, outside: bool = False, security: str = "") -> tuple[Path, str]:
    """A repository of one module under addons/ (not at the root), `old` then `new`; returns (repo, the first commit)."""
    repo = root / "repo"
    repo.mkdir()
    module_repo.git(repo, "init", "-q", "-b", "main")
    manifest = "{{'name': 'Sales Extra', 'version': '{}', 'depends': ['sale'], 'data': []}}\n"
    files = {
        f"addons/{module}/__manifest__.py": manifest.format(old),
        f"addons/{module}/models/sale.py": "X = 1\n",
        "README.md": "addons\n",
    }
    if security:
        files[f"addons/{module}/security/groups.xml"] = security
    first = commit(repo, files, "old")
    changed = {f"addons/{module}/__manifest__.py": manifest.format(new), f"addons/{module}/models/sale.py": "X = 2\n"}
    if outside:
        changed["README.md"] = "addons, changed\n"
    commit(repo, changed, "new")
    return repo, first


# ---------------------------------------------------------------- the values, the file, phase 0


def test_init_writes_the_deployment_the_code_and_the_database_describe_and_phase0_runs_on_it(workdir, demo_repo, odoo_db, capsys):
    repo, before = demo_repo
    assert init(repo, before, odoo_db.dsn) == 0
    out = capsys.readouterr().out
    config = workdir / "deploy.toml"
    assert f"deploylog: wrote {config}: {MODULE} 17.0.1.0.8 -> 17.0.1.0.9, 4 changed file(s)" in out
    raw = tomllib.loads(config.read_text())
    assert raw["deployment"] == {
        "module": MODULE,
        "title": "Payment Account Enhanced",
        "expected_version": "17.0.1.0.9",
        "previous_version": "17.0.1.0.8",
        "branch": "17.0",
    }
    assert raw["database"]["name"] == odoo_db.name
    assert raw["database"]["dsn"] == odoo_db.dsn
    # the manifest changed in its version only: accepted by manifest_policy, not listed (as the shipped deploy.toml)
    assert raw["expected"] == {"changed_files": sorted(module_repo.EXPECTED_FILES), "manifest_policy": "version-only"}
    assert raw["groups"] == {
        "manager": f"{MODULE}.group_payment_manager",
        "reviewer": f"{MODULE}.group_payment_reviewer",
        "approver": f"{MODULE}.group_payment_approver",
    }
    assert raw["paths"]["repo"] == str(repo.resolve()) and "module_dir" not in raw["paths"]
    assert raw["reconciliation"]["optional"] is False and raw["reconciliation"]["table"] == "account_bank_reconciliation_line"
    assert "approval" in raw  # the database has the template's approval_state: its section is written
    text = config.read_text()
    for xmlid in PAYMENT_GROUPS:  # every group of the module, by XML id and name, in the comment
        assert re.search(rf"^#\s+{re.escape(xmlid)}  \(Payment \w+\)$", text, re.M), xmlid
    assert "Odoo 17.0 (base 17.0.1.3)" in text and "installed at 17.0.1.0.8" in text
    assert "only 'version' changed ('17.0.1.0.8' -> '17.0.1.0.9')" in text

    spec = spec_mod.load(config)
    assert spec.deployment.expected_version == "17.0.1.0.9" and spec.paths.baseline_dir == str(workdir / "baseline")

    run = run_suite(config, "-m", "phase0")
    assert run.statuses() == dict.fromkeys(("0.1", "0.2", "0.3", "0.4"), "PASS"), run.output
    assert run.returncode == 0, run.output


def test_init_reads_odoo_18_short_versions_and_files_outside_the_module(workdir, odoo_db_of, capsys):
    db = odoo_db_of(18)
    module = MODULE  # the module the Odoo 18 database has, in a repository of another shape
    repo, first = small_repo(workdir, module, "1.0.8", "1.0.9", outside=True)
    assert init(repo, first, db.dsn, to="main") == 0
    config = workdir / "deploy.toml"
    raw = tomllib.loads(config.read_text())
    assert raw["deployment"]["expected_version"] == "18.0.1.0.9"  # Odoo prefixes a short version with the series
    assert raw["deployment"]["previous_version"] == "18.0.1.0.8"
    assert raw["deployment"]["branch"] == "main"
    assert raw["paths"]["module_dir"] == str(repo.resolve() / "addons" / module)
    assert raw["expected"]["changed_files"] == ["README.md", f"addons/{module}/models/sale.py"]
    text = config.read_text()
    assert '"README.md",  # outside addons/payment_account_enhanced/: the same pull deploys it' in text
    assert "Odoo 18.0 (base 18.0.1.3)" in text and "(Odoo 18 records it as 18.0.1.0.9)" in text
    assert spec_mod.load(config).module_dir == repo.resolve() / "addons" / module


def test_the_payment_sections_follow_what_the_database_has(workdir, demo_repo, odoo_db):
    """No reconciliation tables: no [reconciliation] (0.2 is not in the runbook); no approval_state: no [approval]."""
    repo, before = demo_repo
    odoo_db.execute("DROP TABLE account_bank_reconciliation_line, account_bank_reconciliation")
    assert init(repo, before, odoo_db.dsn) == 0
    config = workdir / "deploy.toml"
    raw = tomllib.loads(config.read_text())
    assert "reconciliation" not in raw
    assert "no [reconciliation], so 0.2 and 4.7 are not in" in config.read_text()
    assert "approval" in raw
    run = run_suite(config, "-m", "phase0")
    assert run.statuses() == {"0.1": "PASS", "0.3": "PASS", "0.4": "PASS"}, run.output
    odoo_db.execute("ALTER TABLE account_payment DROP COLUMN approval_state")
    assert init(repo, before, odoo_db.dsn, "--force") == 0
    assert "approval" not in tomllib.loads(config.read_text())


def test_a_manifest_changed_beyond_its_version_is_listed(workdir, demo_repo, odoo_db):
    repo, before = demo_repo
    manifest = f"{MODULE}/__manifest__.py"
    text = (repo / manifest).read_text().replace("'application': False", "'application': True")
    commit(repo, {manifest: text}, "application")
    assert init(repo, before, odoo_db.dsn) == 0
    raw = tomllib.loads((workdir / "deploy.toml").read_text())
    assert manifest in raw["expected"]["changed_files"]
    assert "keys other than 'version' changed: application, version" in (workdir / "deploy.toml").read_text()


def test_a_module_without_groups_has_no_group_items(workdir, odoo_db):
    repo, first = small_repo(workdir, "web", "1.0", "1.1")  # installed in the database, no group of its own
    odoo_db.execute("UPDATE ir_module_module SET latest_version = '17.0.1.0' WHERE name = 'web'")
    assert init(repo, first, odoo_db.dsn, module="web", to="main") == 0
    config = workdir / "deploy.toml"
    raw = tomllib.loads(config.read_text())
    assert "groups" not in raw
    assert "no [groups], so P.6, 0.4 and 4.6 are not in this" in config.read_text()
    assert spec_mod.load(config).groups is None


def test_a_first_install_is_declared_and_takes_the_groups_the_code_declares(workdir, odoo_db, capsys):
    security = '<odoo><record id="group_sale_extra_manager" model="res.groups"><field name="name">M</field></record></odoo>'
    repo, first = small_repo(workdir, "sale_extra", "17.0.1.0", "17.0.1.1", security=security)
    assert init(repo, first, odoo_db.dsn, module="sale_extra", to="main") == 2
    assert errors(capsys) == [
        f"deploylog: error: unknown module 'sale_extra' in database {odoo_db.name}: no row in ir_module_module; "
        "give --first-install if this deployment installs it"
    ]
    assert not (workdir / "deploy.toml").exists()
    assert init(repo, first, odoo_db.dsn, "--first-install", module="sale_extra", to="main") == 0
    raw = tomllib.loads((workdir / "deploy.toml").read_text())
    assert raw["deployment"]["first_install"] is True
    assert raw["groups"]["manager"] == "sale_extra.group_sale_extra_manager"
    assert raw["groups"]["reviewer"] == "sale_extra.group_sale_extra_manager"  # stands in, with a check: note
    assert spec_mod.load(workdir / "deploy.toml").deployment.first_install


def test_the_docs_command_line_is_one_the_cli_takes():
    block = (REPO / "docs" / "init.md").read_text().split("\n\n    ", 1)[1].split("\n\n", 1)[0]
    argv = shlex.split(block.replace("\\\n", " "))
    assert argv[0] == ".venv/bin/deploylog"
    args = cli.build_parser().parse_args(argv[1:])
    assert (args.command, args.module, args.from_ref, args.to_ref) == ("init", "sale_discount_rules", "17.0-prod", "origin/17.0")


def test_roles_take_the_groups_named_like_them():
    groups = ["s.group_sale_user", "s.group_sale_manager", "s.group_sale_approver_level2", "s.group_sale_approver"]
    chosen = template.roles(groups, "s")
    assert chosen["manager"] == ("s.group_sale_manager", "")
    assert chosen["approver"] == ("s.group_sale_approver", "")
    assert chosen["reviewer"][0] == "s.group_sale_manager" and chosen["reviewer"][1].startswith("check: no group of s is named")


def test_command_line_values_have_the_last_word_and_no_password_is_written(workdir, demo_repo, odoo_db, capsys):
    repo, before = demo_repo
    dsn = f"{odoo_db.dsn} password=s3cret-pw"
    assert init(repo, before, dsn, "--set", "service.manager=process", "--report-dir=out", "--output=conf/d.toml") == 0
    text = (workdir / "conf" / "d.toml").read_text()
    assert "s3cret" not in text and "s3cret" not in capsys.readouterr().err
    raw = tomllib.loads(text)
    assert raw["service"]["manager"] == "process"
    assert raw["paths"]["report_dir"] == str(workdir / "out")
    assert conninfo_to_dict(raw["database"]["dsn"]) == conninfo_to_dict(odoo_db.dsn)


# ---------------------------------------------------------------- the commented examples


def uncomment(text: str, header: str) -> str:
    """A commented block as the operator uncomments it: from its header line to the blank line after it."""
    block = text[text.index(header) :].split("\n\n", 1)[0]
    return "\n".join(line.removeprefix("# ") for line in block.splitlines()) + "\n"


def test_the_commented_examples_are_in_the_file_and_load_once_uncommented(workdir, demo_repo, odoo_db):
    repo, before = demo_repo
    assert init(repo, before, odoo_db.dsn) == 0
    config = workdir / "deploy.toml"
    text = config.read_text()
    raw = tomllib.loads(text)
    assert "checks" not in raw and "protect" not in raw and "guards" not in raw and "waivers" not in raw
    for marker in ("# [[guards]]", "# [[checks]]", "# [waivers]", '# name = "reconciled_payments"'):
        assert marker in text
    # uncommented, the guards, checks and waivers examples load as the suite loads them
    body = "\n".join(uncomment(text, header) for header in ("# [[guards]]", "# [[checks]]", "# [waivers]"))
    (workdir / "waivers.toml").write_text("")
    config.write_text(text + "\n" + body)
    spec = spec_mod.load(config)
    assert [c.item for c in spec.checks] == ["4.20"] and spec.guards[0].file == "models/account_move.py"
    assert spec.waivers.file == str(workdir / "waivers.toml")


def test_without_the_shipped_example_a_generic_protected_set_is_written_and_loads(workdir, demo_repo, odoo_db, monkeypatch):
    monkeypatch.setattr(template, "SHIPPED", workdir / "none.toml")  # deploylog installed without its checkout
    monkeypatch.setattr(template, "_approval", lambda: template.Section("approval", [], "", omitted=True))
    repo, before = demo_repo
    assert init(repo, before, odoo_db.dsn) == 0
    text = (workdir / "deploy.toml").read_text()
    start = text.index("# [[protect]]")
    block = "\n".join(line.removeprefix("# ") for line in text[start:].splitlines())  # up to the end of the file
    sets = tomllib.loads(block)["protect"]
    assert [(s["name"], s["item"], s["table"]) for s in sets] == [("confirmed_orders", "5.1", "sale_order")]
    assert all(set(s) <= PROTECT_KEYS for s in sets)
    (workdir / "deploy.toml").write_text(text[:start] + block)
    assert [p.name for p in spec_mod.load(workdir / "deploy.toml").protect] == ["confirmed_orders"]


def test_the_shipped_examples_protected_sets_are_written_as_it_declares_them(workdir, demo_repo, odoo_db, monkeypatch):
    shipped = workdir / "shipped.toml"
    shipped.write_text(
        '''[[protect]]
name = "orders"
item = "5.5"
title = "Confirmed orders"
query = """
SELECT t.id, t.name, t.amount_total
FROM sale_order t WHERE t.state = 'sale'
"""
counts = { big = "amount_total > 1000" }

[[protect]]
name = "partners"
item = "5.6"
title = "Partners"
table = "res_partner"
columns = ["name", "vat"]
optional = true
'''
    )
    monkeypatch.setattr(template, "SHIPPED", shipped)
    repo, before = demo_repo
    assert init(repo, before, odoo_db.dsn) == 0
    text = (workdir / "deploy.toml").read_text()
    block = "\n".join(line.removeprefix("# ") for line in text[text.index("# [[protect]]") :].splitlines())
    assert tomllib.loads(block) == tomllib.loads(shipped.read_text())
    assert "payments" not in block


# ---------------------------------------------------------------- what it refuses, in one line


def test_an_existing_file_is_not_overwritten_without_force(workdir, demo_repo, odoo_db, capsys):
    repo, before = demo_repo
    config = workdir / "deploy.toml"
    config.write_text("# mine\n")
    assert init(repo, before, odoo_db.dsn) == 2
    assert errors(capsys) == [f"deploylog: error: {config} exists: not overwritten (--force replaces it)"]
    assert config.read_text() == "# mine\n"
    assert init(repo, before, odoo_db.dsn, "--force") == 0
    assert spec_mod.load(config).deployment.module == MODULE
    assert [p.name for p in workdir.iterdir() if p.name.endswith(".partial")] == []


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--from", "no-such-ref"), "--from 'no-such-ref' is not a commit of {repo} (a branch, tag or commit id)"),
        (("--to", "v9"), "--to 'v9' is not a commit of {repo} (a branch, tag or commit id)"),
        (
            ("--module", "payment_acount_enhanced"),
            "unknown module 'payment_acount_enhanced': no payment_acount_enhanced/__manifest__.py in {repo} at HEAD "
            "(did you mean payment_account_enhanced?)",
        ),
        (("--repo", "{workdir}"), "--repo {workdir} is not a git repository: fatal: not a git repository"),
    ],
)
def test_a_bad_ref_module_or_repository_is_one_line_and_exit_2(workdir, demo_repo, capsys, args, message):
    repo, before = demo_repo
    given = {"--module": MODULE, "--repo": str(repo), "--from": before, "--to": "HEAD"}
    given.update({k: v.format(workdir=workdir) for k, v in zip(args[::2], args[1::2], strict=True)})
    argv = [word for pair in given.items() for word in pair]
    assert deploylog("init", *argv, "--dsn=host=127.0.0.1 port=1 dbname=x") == 2
    lines = errors(capsys)
    assert len(lines) == 1 and lines[0].startswith("deploylog: error: " + message.format(repo=repo.resolve(), workdir=workdir))
    assert not (workdir / "deploy.toml").exists()


def test_a_manifest_that_is_not_a_literal_is_one_line_naming_ref_and_file(workdir, demo_repo, capsys):
    repo, before = demo_repo
    manifest = f"{MODULE}/__manifest__.py"
    commit(repo, {manifest: "VERSION = '17.0.1.0.10'\n{'name': 'x', 'version': VERSION}\n"}, "computed")
    assert init(repo, before, "host=127.0.0.1 port=1 dbname=x", to="17.0") == 2
    assert errors(capsys) == [f"deploylog: error: {manifest} at 17.0: not valid Python: invalid syntax (<unknown>, line 1)"]
    commit(repo, {manifest: "{'name': 'x', 'version': '.'.join(['17', '0'])}\n"}, "a call")
    assert init(repo, before, "host=127.0.0.1 port=1 dbname=x") == 2
    lines = errors(capsys)
    assert len(lines) == 1 and lines[0].startswith(
        f"deploylog: error: {manifest} at HEAD: is not a plain literal (would need executing): malformed node"
    )


def test_an_unreachable_database_is_one_line_and_exit_2(workdir, demo_repo, capsys):
    repo, before = demo_repo
    assert init(repo, before, "host=127.0.0.1 port=1 dbname=osusproperties connect_timeout=2") == 2
    lines = errors(capsys)
    assert len(lines) == 1
    assert lines[0].startswith("deploylog: error: database unreachable (host=127.0.0.1 port=1 dbname=osusproperties")
    assert not (workdir / "deploy.toml").exists()


def test_a_database_that_is_not_odoo_is_one_line_and_exit_2(workdir, demo_repo, pg_cluster, capsys):
    repo, before = demo_repo
    assert init(repo, before, pg_cluster.dsn("postgres")) == 2
    lines = errors(capsys)
    assert len(lines) == 1 and "ir_module_module" in lines[0], lines
    assert not (workdir / "deploy.toml").exists()


def test_an_unknown_module_in_the_database_names_the_one_it_may_mean(workdir, odoo_db, capsys):
    repo, first = small_repo(workdir, "payment_account_enhance", "17.0.1.0", "17.0.1.1")
    assert init(repo, first, odoo_db.dsn, module="payment_account_enhance", to="main") == 2
    assert errors(capsys) == [
        f"deploylog: error: unknown module 'payment_account_enhance' in database {odoo_db.name}: no row in ir_module_module "
        f"(did you mean {MODULE}?); give --first-install if this deployment installs it"
    ]


def test_a_database_other_than_database_names_is_refused(workdir, demo_repo, odoo_db, capsys):
    repo, before = demo_repo
    assert init(repo, before, odoo_db.dsn, "--database=production") == 2
    assert errors(capsys) == [
        f"deploylog: error: connected to database {odoo_db.name!r} but --database names 'production': "
        "refusing to describe the wrong database"
    ]
