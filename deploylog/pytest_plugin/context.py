"""Per-session state of the plugin, in pytest's stash: the Spec, the session start, the items of the
deployment's own, the waivers in force, each test's result."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import pytest

from deploylog import catalogue, options, runbook
from deploylog import waivers as waivers_mod
from deploylog.result import CheckResult
from deploylog.spec import Spec, SpecError

SESSION_START = pytest.StashKey[dt.datetime]()
SPEC = pytest.StashKey["Spec | SpecError"]()
RECORDED = pytest.StashKey[CheckResult]()
UNDEFINED = pytest.StashKey[str]()  # why a test's item cannot be defined (an xdist worker errors the test with it)
FINAL = pytest.StashKey[CheckResult]()  # the result the log records (outcome.final), once the test is over
OBSERVED = pytest.StashKey["Observed"]()
OWN_ITEMS = pytest.StashKey[dict[str, catalogue.Item]]()  # the items of the deployment's own this process collected
WAIVERS = pytest.StashKey[waivers_mod.InForce]()


@dataclass
class Observed:
    """What the setup, call and teardown reports of one log test said, folded as they come."""

    setup_error: str = ""
    call_failure: str = ""  # the call failed: an assertion or a check's own FAIL/ERROR
    call_failure_kind: str = ""  # FAIL (assertion) or ERROR (the test could not run)
    teardown_error: str = ""
    skip_reason: str = ""
    passed_call: bool = False
    host: str = ""
    start: float = 0.0
    stop: float = 0.0
    duration: float = 0.0
    phases: list[str] = field(default_factory=list)
    statements: list[str] = field(default_factory=list)  # what the test ran through the snapshot, as it ran


def is_worker(config: pytest.Config) -> bool:
    """True in a pytest-xdist worker: the controller writes the log, not the workers."""
    return hasattr(config, "workerinput")


def session_start(config: pytest.Config) -> dt.datetime:
    return config.stash[SESSION_START]


def load_spec(config: pytest.Config) -> Spec | SpecError:
    """The Spec for this session (cached); a SpecError is cached and returned, not raised."""
    if SPEC not in config.stash:
        cwd = config.invocation_params.dir
        try:
            config.stash[SPEC] = options.load_spec(config.getoption, cwd)
        except SpecError as exc:
            config.stash[SPEC] = exc
    return config.stash[SPEC]


def spec(config: pytest.Config) -> Spec:
    """The Spec; raises its SpecError (which becomes the item's ERROR, one line)."""
    loaded = load_spec(config)
    if isinstance(loaded, SpecError):
        raise loaded
    return loaded


def not_in_runbook(config: pytest.Config) -> dict[str, str]:
    """The built-in items deploy.toml leaves out of this deployment's runbook, and why ({} without a usable spec)."""
    loaded = load_spec(config)
    return {} if isinstance(loaded, Exception) else runbook.not_in_runbook(loaded)


def wanted_items(option: str | None) -> set[str] | None:
    if not option:
        return None
    return {part.strip() for part in option.split(",") if part.strip()}


def item_id_of(node: pytest.Item) -> str | None:
    marker = node.get_closest_marker("item")
    return str(marker.args[0]) if marker and marker.args else None


def record(node: pytest.Item, result: CheckResult) -> None:
    node.stash[RECORDED] = result


def recorded(node: pytest.Item) -> CheckResult | None:
    return node.stash.get(RECORDED, None)


def final(node: pytest.Item) -> CheckResult | None:
    """The test's result as the log records it (waiver applied); before its teardown, the one its check recorded."""
    return node.stash.get(FINAL, None) or recorded(node)


def observed(node: pytest.Item) -> Observed:
    return node.stash.setdefault(OBSERVED, Observed())


def own_items(config: pytest.Config) -> dict[str, catalogue.Item]:
    return config.stash.setdefault(OWN_ITEMS, {})


def waivers(config: pytest.Config) -> waivers_mod.InForce:
    """The waivers of this run (none until they are loaded, before the first test runs)."""
    return config.stash.get(WAIVERS, waivers_mod.NONE)
