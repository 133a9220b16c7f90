"""The configuration options every entry point takes: the suite (pytest) and each CLI subcommand.

Described once here; pytest_plugin/options.py and cli.py register the same
table, so `pytest --set database.name=x` and `deploylog backup --set
database.name=x` mean the same thing.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from deploylog import spec as spec_mod

# The deploy.toml used when --deploy-config is not given.
DEFAULT_CONFIG = "deploy.toml"
# Lets an operator (or a CI job) point every command at a deployment without repeating the option.
CONFIG_ENV = "DEPLOYLOG_CONFIG"


@dataclass(frozen=True)
class Option:
    flag: str
    help: str
    overrides: tuple[str, str] | None = None  # the deploy.toml (section, key) it overrides
    repeatable: bool = False
    metavar: str | None = None
    path: bool = False  # a path: typed on the command line, it is relative to the cwd

    @property
    def dest(self) -> str:
        return self.flag.lstrip("-").replace("-", "_")


CONFIG_OPTIONS = (
    Option("--deploy-config", f"deployment description (default: ${CONFIG_ENV} or {DEFAULT_CONFIG})", metavar="PATH"),
    Option("--dsn", "libpq connection string or URI; overrides [database] dsn", ("database", "dsn")),
    Option("--database", "overrides [database] name", ("database", "name")),
    Option("--report-dir", "overrides [paths] report_dir", ("paths", "report_dir"), path=True),
    Option("--baseline-dir", "overrides [paths] baseline_dir", ("paths", "baseline_dir"), path=True),
    Option("--expected-version", "overrides [deployment] expected_version", ("deployment", "expected_version")),
    Option(
        "--signing-key",
        "your signing key (private key file, or a .pub held by ssh-agent); overrides [signing] key",
        ("signing", "key"),
        path=True,
        metavar="PATH",
    ),
    Option(
        "--set",
        "override any deploy.toml value (value parsed as TOML), repeatable",
        repeatable=True,
        metavar="SECTION.KEY=VALUE",
    ),
)

Getter = Callable[[str], Any]


def config_path(get: Getter, cwd: Path) -> Path:
    """The deploy.toml of this invocation: --deploy-config, else $DEPLOYLOG_CONFIG, else ./deploy.toml."""
    given = get("deploy_config") or os.environ.get(CONFIG_ENV) or DEFAULT_CONFIG
    return cwd / given


def overrides(get: Getter, cwd: Path) -> spec_mod.Overrides:
    """Command-line values as a {section: {key: value}} overlay on deploy.toml."""
    overlay: spec_mod.Overrides = {}
    for assignment in get("set") or []:
        section, key, value = spec_mod.parse_override(assignment)
        overlay.setdefault(section, {})[key] = value
    for option in CONFIG_OPTIONS:
        value = get(option.dest)
        if option.overrides is None or value is None:
            continue
        section, key = option.overrides
        if option.path:
            value = spec_mod.resolve_path(value, cwd)
        overlay.setdefault(section, {})[key] = value
    return overlay


def load_spec(get: Getter, cwd: Path) -> spec_mod.Spec:
    """The Spec an invocation describes; SpecError (one line) when it cannot be loaded."""
    return spec_mod.load(config_path(get, cwd), overrides(get, cwd))
