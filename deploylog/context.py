"""Per-session state shared by the plugin's fixtures and hooks.

Kept out of plugin.py so hooks and fixtures stay one-liners and so the
helpers can be used from plain code (the CLI, the self-tests).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from deploylog import spec as spec_mod
from deploylog.result import CheckResult

SESSION_START = pytest.StashKey[dt.datetime]()
SPEC = pytest.StashKey[Any]()  # Spec, or the SpecError met while loading it
RESULT = pytest.StashKey[CheckResult]()

# Dedicated options -> (section, key) they override.
OPTION_OVERRIDES = {
    "dsn": ("database", "dsn"),
    "database": ("database", "name"),
    "report_dir": ("paths", "report_dir"),
    "baseline_dir": ("paths", "baseline_dir"),
    "expected_version": ("deployment", "expected_version"),
}


def overrides_from(config: pytest.Config) -> dict[str, dict[str, Any]]:
    """Command-line values as a {section: {key: value}} overlay on deploy.toml."""
    overlay: dict[str, dict[str, Any]] = {}
    for assignment in config.getoption("set") or []:
        section, key, value = spec_mod.parse_override(assignment)
        overlay.setdefault(section, {})[key] = value
    for option, (section, key) in OPTION_OVERRIDES.items():
        value = config.getoption(option)
        if value is not None:
            if section == "paths":  # a path typed on the command line is relative to the cwd
                value = str(config.invocation_params.dir / value)
            overlay.setdefault(section, {})[key] = value
    return overlay


def load_spec(config: pytest.Config) -> Any:
    """The Spec for this session (cached); a SpecError is cached and returned, not raised."""
    if SPEC not in config.stash:
        path = config.getoption("deploy_config")
        try:
            config.stash[SPEC] = spec_mod.load(config.invocation_params.dir / path, overrides_from(config))
        except spec_mod.SpecError as exc:
            config.stash[SPEC] = exc
    return config.stash[SPEC]


def spec_or_fail(config: pytest.Config) -> spec_mod.Spec:
    loaded = load_spec(config)
    if isinstance(loaded, spec_mod.SpecError):
        pytest.fail(f"deploy config: {loaded}", pytrace=False)
    return loaded


def session_start(config: pytest.Config) -> dt.datetime:
    return config.stash[SESSION_START]


def wanted_items(option: str | None) -> set[str] | None:
    if not option:
        return None
    return {part.strip() for part in option.split(",") if part.strip()}


def item_id_of(node: pytest.Item) -> str | None:
    marker = node.get_closest_marker("item")
    return str(marker.args[0]) if marker and marker.args else None


def record(node: pytest.Item, result: CheckResult) -> None:
    node.stash[RESULT] = result


def recorded(node: pytest.Item) -> CheckResult | None:
    return node.stash.get(RESULT, None)
