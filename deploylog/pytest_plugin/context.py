"""Per-session state of the plugin, in pytest's stash: the Spec, the session start, each test's result."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import pytest

from deploylog import options
from deploylog.result import CheckResult
from deploylog.spec import Spec, SpecError

SESSION_START = pytest.StashKey[dt.datetime]()
SPEC = pytest.StashKey["Spec | SpecError"]()
RECORDED = pytest.StashKey[CheckResult]()
OBSERVED = pytest.StashKey["Observed"]()


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


def observed(node: pytest.Item) -> Observed:
    return node.stash.setdefault(OBSERVED, Observed())
