"""`deploylog demo`: the whole cycle on an embedded default, nothing to install or configure.

Starts a throwaway PostgreSQL, generates an Odoo-17-shaped `osusproperties`,
builds a git checkout of payment_account_enhanced 17.0.1.0.8, a running
stand-in Odoo service with its log, then runs the log exactly as an operator
would: preflight, phase 0, backups, the deployment (git pull of 17.0.1.0.9,
service restart, module upgrade), post, phase 7 results and sign-off.

With `--deploy-config=examples/sale-approval/deploy.toml` it runs that example
instead: the module of the config's [deployment] chooses the demo module (its
git history, and the sale tables in the generated database).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import shutil
import subprocess
import sys
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from deploylog import options, tomlwrite
from deploylog import spec as spec_mod
from deploylog.commands.common import Subparsers, add_parser, echo, getter
from deploylog.commands.render import verify_report
from deploylog.demo import generate, module_repo, odoo_log, sale_approval
from deploylog.demo import keys as demo_keys
from deploylog.demo.cluster import Cluster
from deploylog.demo.odoo_server import OdooServer, wait_past
from deploylog.demo.simulate import upgrade_module
from deploylog.errors import DeploylogError

SUITE_ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class DemoModule:
    """A module the demo can deploy: its git history, what the generated database needs, phase 7's notes."""

    source: module_repo.ModuleSource
    deploy: Callable[[Path], str]  # commits the deployment in the checkout (what `git pull` brings); the new HEAD
    sales: bool  # generate the sale tables (the example's module extends sale.order)
    manual_notes: dict[str, str]


MODULES = {
    m.source.module: m
    for m in (
        DemoModule(
            module_repo.PAYMENT,
            module_repo.deploy,
            sales=False,
            manual_notes={
                "7.1": "accountant could not edit posted PV0000012: blocked with the expected message",
                "7.2": "finance.manager edited a draft payment and reset it as allowed",
                "7.3": "new payment went draft -> under_review -> approved -> posted",
                "7.4": "reconciled payment PV0000003 could not be edited",
                "7.5": "voucher printed with number and signatures",
            },
        ),
        DemoModule(
            sale_approval.SOURCE,
            lambda repo: module_repo.deploy_source(repo, sale_approval.SOURCE),
            sales=True,
            manual_notes={
                "7.1": "a salesman could not confirm S00007 (above the limit, not approved): blocked with the message",
                "7.2": "finance.manager approved S00007, then it confirmed",
                "7.3": "a new quotation below the limit confirmed without approval",
                "7.4": "a confirmed, locked order could not be edited",
                "7.5": "the order form shows who approved and when",
            },
        ),
    )
}


def register(sub: Subparsers) -> None:
    parser = add_parser(
        sub,
        "demo",
        "run a complete deployment log on an embedded PostgreSQL",
        description="Run a complete deployment log on an embedded PostgreSQL. The demo writes its own deploy.toml "
        "(in --workdir) from --deploy-config ($DEPLOYLOG_CONFIG; default: the checkout's deploy.toml) and its "
        "embedded database, service and paths; the other configuration options override that file.",
    )
    parser.add_argument("--workdir", default="demo-run", help="where the demo keeps everything (reset each run)")
    parser.add_argument("--payments", type=int, default=generate.SMALL.payments, help="size of the generated database")
    parser.add_argument("--keep-running", action="store_true", help="leave PostgreSQL and the service running")
    parser.set_defaults(func=run)


def _banner(text: str) -> None:
    echo(f"\n=== {text} ===")


def _pytest(config: Path, *args: str) -> int:
    """One log run, as an operator types it; output goes straight to the console."""
    command = [
        sys.executable,
        "-m",
        "pytest",
        *args,
        f"--deploy-config={config}",
        "-q",
        "--no-header",
        "-p",
        "no:randomly",
    ]
    echo("$ pytest " + " ".join(args))
    return subprocess.run(command, cwd=SUITE_ROOT, check=False).returncode


def _template(args: argparse.Namespace) -> Path:
    """The deploy.toml the demo's own starts from: the one the options name, else the checkout's."""
    if getter(args)("deploy_config") or os.environ.get(options.CONFIG_ENV):
        return options.config_path(getter(args), Path.cwd())
    return SUITE_ROOT / "deploy.toml"


def _read(template: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(template.read_text())
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise DeploylogError(f"the demo cannot read {template}: {exc}") from None


def _demo_module(config: dict[str, Any]) -> DemoModule:
    module = str(config.get("deployment", {}).get("module", ""))
    if module not in MODULES:
        raise DeploylogError(f"the demo deploys {' or '.join(MODULES)}, not [deployment] module = {module!r}")
    return MODULES[module]


def _anchored(config: dict[str, Any], template: Path) -> None:
    """The template's own relative paths the demo keeps (its tests, its waivers file) stay relative to the template."""
    base = template.resolve().parent
    paths = config.setdefault("paths", {})
    paths["tests"] = [spec_mod.resolve_path(p, base) for p in paths.get("tests", [])]
    if config.get("waivers", {}).get("file"):
        config["waivers"]["file"] = spec_mod.resolve_path(config["waivers"]["file"], base)


def _write_config(
    config: dict[str, Any],
    overlay: spec_mod.Overrides,
    workdir: Path,
    cluster: Cluster,
    repo: Path,
    server: OdooServer,
    cache: Path,
    keys: demo_keys.Keys,
) -> Path:
    database = config["database"]["name"]
    config["database"].update(dsn=cluster.dsn(database))
    config["paths"].update(
        repo=str(repo),
        backup_dir=str(workdir / "backups"),
        log_file=str(workdir / "odoo-server.log"),
        baseline_dir=str(workdir / "baseline"),
        report_dir=str(workdir / "reports"),
        pg_bin_dir=str(cluster.bin_dir),
    )
    config.setdefault("service", {}).update(server.service_config(), cache_dirs=[str(cache)])
    # the demo host is a container: its disks are whatever they are; keep the rule, lower the bar
    config.setdefault("thresholds", {})["min_free_disk_gb"] = 1
    # every run signed by the operator who starts it (devops); the others sign with their own keys
    config.setdefault("signing", {}).update(allowed_signers=str(keys.allowed_signers), key=str(keys.keys["devops"]))
    for section, values in overlay.items():  # the command line's options have the last word
        config.setdefault(section, {}).update(values)
    path = workdir / "deploy.toml"
    path.write_text(tomlwrite.dumps(config))
    return path


def run(args: argparse.Namespace) -> int:
    if not (SUITE_ROOT / "tests_phase0").is_dir():
        raise DeploylogError(f"the demo runs from a deploylog checkout; {SUITE_ROOT} has no tests_phase0/")
    template = _template(args)
    config_template, overlay = _read(template), options.overrides(getter(args), Path.cwd())  # bad options fail at once
    demo = _demo_module(config_template)
    _anchored(config_template, template)
    database = str(config_template.get("database", {}).get("name") or "osusproperties")
    config_template.setdefault("database", {})["name"] = database
    workdir = Path(args.workdir).resolve()
    if workdir.exists():
        shutil.rmtree(workdir)
    workdir.mkdir(parents=True)
    from deploylog.hostchecks import take_backup
    from deploylog.log import actions

    _banner("embedded PostgreSQL + generated Odoo 17 database")
    cluster = Cluster(base_dir=workdir / "pg").start()
    server = OdooServer(workdir / "odoo")
    try:
        size = generate.Size(args.payments, int(args.payments * 0.75), max(1, args.payments * 3 // 10), max(20, args.payments // 10))
        generate.generate(cluster.dsn(), cluster.dsn(database), database, size=size, sales=demo.sales)
        sales = f", {size.sale_orders} sale orders" if demo.sales else ""
        echo(f"database {database}: {size.payments} payments, {size.invoices} invoices{sales} ({cluster.dsn(database)})")
        repo, _ = module_repo.build_repo(workdir / "code", demo.source)
        cache = workdir / "lib" / ".cache"
        (cache / "assets").mkdir(parents=True)
        (cache / "assets" / "web.assets_backend.js").write_text("// stale bundle\n")
        server.start()
        history_start = dt.datetime.now(dt.UTC) - dt.timedelta(days=7)
        odoo_log.write_log(
            workdir / "odoo-server.log",
            [*odoo_log.startup(history_start, pid=1001), *odoo_log.requests(history_start, 20, pid=1001)],
        )
        keys = demo_keys.generate(workdir / "keys")
        config = _write_config(config_template, overlay, workdir, cluster, repo, server, cache, keys)
        spec = spec_mod.load(config)
        echo(f"deployment config: {config} (from {template})")
        echo(f"signing keys: {', '.join(demo_keys.OPERATORS.values())} listed in {keys.allowed_signers}")

        _banner("T-24h: preflight")
        (workdir / "backups").mkdir()
        take_backup.dump_database(spec, workdir / "backups" / f"{database}_PRE_DEPLOY_nightly.dump")
        actions.record_manual(spec, "P.1", "PASS", "DevOps Demo", notes="maintenance window e-mailed to all users")
        _pytest(config, "-m", "preflight")

        _banner("PHASE 0: pre-deployment validation + baseline")
        if _pytest(config, "-m", "phase0") != 0:
            echo("phase 0 failed: the demo stops here (ABORT)")
            return 1
        started_at = dt.datetime.fromisoformat(_baseline(spec)["phase0_started_at"])

        _banner("PHASE 1: backups (deploylog backup)")
        for taken in take_backup.take_backups(spec):
            echo(f"{taken.kind}: {taken.path} ({taken.size} bytes, sha256 {taken.sha256[:16]}…)")

        _banner(f"PHASES 2-3: git pull {demo.source.new_version}, stop, clear caches, upgrade, start")
        head = demo.deploy(repo)
        echo(f"HEAD -> {head}")
        server.stop()
        odoo_log.write_log(
            workdir / "odoo-server.log",
            [odoo_log.line(dt.datetime.now(dt.UTC), "INFO", "odoo.service.server", "Stopping gracefully", 1001, "?")],
            mode="a",
        )
        shutil.rmtree(cache)
        upgrade_module(cluster.dsn(database), spec.deployment.expected_version, module=spec.deployment.module)
        wait_past(started_at + dt.timedelta(seconds=1.2))
        server.start()
        restart = dt.datetime.now(dt.UTC)
        odoo_log.write_log(workdir / "odoo-server.log", [*odoo_log.startup(restart), *odoo_log.requests(restart, 30)], mode="a")

        _banner("PHASES 1-6: post-deployment verification")
        post_rc = _pytest(config, "-m", "post")

        _banner("PHASE 7 + SIGN-OFF")
        for item, notes in demo.manual_notes.items():
            actions.record_manual(demo_keys.as_operator(spec, keys, "qa"), item, "PASS", "QA Demo", notes=notes)
        _pytest(config, "-m", "phase7")
        outcome = "APPROVE" if post_rc == 0 else "REJECT"
        actions.sign(spec, "DevOps/System Admin", "DevOps Demo", outcome)
        actions.sign(demo_keys.as_operator(spec, keys, "finance"), "Finance Manager", "Finance Demo", outcome)
        actions.sign(demo_keys.as_operator(spec, keys, "qa"), "QA/Testing", "QA Demo", outcome)
        paths = actions.render(spec)
        echo(actions.status_text(spec))

        _banner("deploylog verify: the files, the chain and every signature")
        lines, verified = verify_report(spec)
        for line in lines:
            echo(line)
        _banner("execution log")
        for name, path in paths.items():
            echo(f"{name}: {path}")
        return post_rc if verified else 1
    finally:
        if not args.keep_running:
            server.stop()
            cluster.stop()


def _baseline(spec: spec_mod.Spec) -> dict[str, Any]:
    import json

    from deploylog import baseline

    return json.loads(baseline.path_for(spec).read_text())
