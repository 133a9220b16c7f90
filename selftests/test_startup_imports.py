"""Start-up import discipline (issue 12, item 5): collecting the log suite imports no database driver and
none of the log's renderers; psycopg, Jinja2, testinfra and lxml come in with the fixture, hook or check
that uses them. Deterministic (which modules `pytest --co` left in sys.modules), never timed:
bench/bench_startup.py measures the time.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from selftests.support.suite import REPO

# A plugin of the test's own, given with -p: what collection imported, once collection is done.
DUMP_PLUGIN = """
import json, os, sys

def pytest_collection_finish(session):
    with open(os.environ["DEPLOYLOG_MODULES_DUMP"], "w") as out:
        json.dump({"modules": sorted(sys.modules), "items": len(session.items)}, out)
"""
THIRD_PARTY = ("psycopg", "psycopg_binary", "jinja2", "testinfra", "lxml")
RENDERING = (
    "deploylog.log.render_html",
    "deploylog.log.render_md",
    "deploylog.log.publish",
    "deploylog.log.signing",
    "deploylog.log.actions",
)
# pytest-html imports Jinja2 and pytest-testinfra imports testinfra as they load: without them, only deploylog is left to import them.
WITHOUT_THEIR_PLUGINS = ("-p", "no:html", "-p", "no:html_fixtures", "-p", "no:pytest11.testinfra")


def collect(tmp_path: Path, *args: str) -> dict:
    """`pytest --co` of the log suite in the project (its deploy.toml), with the dump plugin: modules and item count."""
    (tmp_path / "modules_dump.py").write_text(DUMP_PLUGIN)
    dump = tmp_path / "modules.json"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(tmp_path), os.environ.get("PYTHONPATH")]))}
    env["DEPLOYLOG_MODULES_DUMP"] = str(dump)
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "--co", "-q", "-p", "modules_dump", *args], cwd=REPO, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return json.loads(dump.read_text())


def offenders(modules: list[str], packages: tuple[str, ...]) -> list[str]:
    return [m for m in modules if m in packages or m.startswith(tuple(f"{p}." for p in packages))]


def test_collection_imports_no_driver_renderer_or_host_library(tmp_path):
    found = collect(tmp_path, *WITHOUT_THEIR_PLUGINS)
    modules = found["modules"]
    assert found["items"] > 20  # the whole log suite was collected, through the plugin
    assert {"deploylog.pytest_plugin.plugin", "deploylog.dbchecks", "deploylog.hostchecks.restore"} <= set(modules)
    assert offenders(modules, THIRD_PARTY) == []
    assert offenders(modules, RENDERING) == []


def test_collection_with_every_plugin_imports_no_driver_or_renderer(tmp_path):
    """The run as operators start it: Jinja2 and testinfra are there (their plugins'), psycopg and the renderers are not."""
    modules = collect(tmp_path, "-m", "phase0")["modules"]
    assert "pytest_html" in modules and "testinfra" in modules
    assert offenders(modules, ("psycopg", "psycopg_binary", "lxml")) == []
    assert offenders(modules, RENDERING) == []


def test_the_dump_sees_what_collection_imports(tmp_path):
    """The other way: a plugin that imports psycopg at start-up is seen (`-p psycopg` loads the package as a plugin)."""
    modules = collect(tmp_path, *WITHOUT_THEIR_PLUGINS, "-p", "psycopg")["modules"]
    assert "psycopg" in offenders(modules, THIRD_PARTY)


def test_the_command_line_parser_imports_no_driver_or_renderer():
    """`deploylog --help` builds every subcommand's parser, and imports only that: the commands import the rest when run."""
    script = "import json, sys\nfrom deploylog import cli\ncli.build_parser()\nprint(json.dumps(sorted(sys.modules)))"
    done = subprocess.run([sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, check=True)
    modules = json.loads(done.stdout)
    assert "deploylog.commands.demo" in modules and "deploylog.commands.render" in modules
    assert offenders(modules, THIRD_PARTY) == []
    assert offenders(modules, RENDERING) == []
