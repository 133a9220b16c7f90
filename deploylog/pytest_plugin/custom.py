"""The deployment's own items in a pytest run: its test files ([paths] tests), the items its tests
define (`@pytest.mark.item("4.8", title=...)`), its [[checks]] and the items its [[protect]] sets feed
(one parametrized test each), the
statements a test ran through the snapshot (its Query evidence), and its waivers.

Nothing here changes a global: the items a run defines are kept in the
session's stash, and the reporter records them with the run, so a log
rendered later (`deploylog render`, no pytest) knows them from its state.
"""

from __future__ import annotations

import contextlib
import inspect
from collections.abc import Iterator
from typing import Any

import pytest

from deploylog import catalogue, checks, db, protect
from deploylog import waivers as waivers_mod
from deploylog.errors import DeploylogError
from deploylog.log import query
from deploylog.pytest_plugin import context, xdist
from deploylog.spec import Check, Spec

DECLARED = "declared_check"  # the fixture the declared-checks test takes: one [[checks]] entry
PROTECTED = "protected_item"  # the fixture the protected-sets test takes: the id of an item [[protect]] sets feed
MARKER_KEYS = ("title", "expected", "severity", "aspect")


# ------------------------------------------------------------------ the deployment's own test files


def add_test_paths(config: pytest.Config) -> None:
    """[paths] tests join a run that collects the default test paths (never a run given explicit paths)."""
    if config.args_source == pytest.Config.ArgsSource.ARGS:  # (an xdist worker is given the same command line)
        return
    loaded = context.load_spec(config)
    if isinstance(loaded, Exception):
        return  # said once the session collects a log item
    config.args.extend(path for path in loaded.paths.tests if path not in config.args)


# ------------------------------------------------------------------ [[checks]]


def _declared_fixture(obj: object) -> str:
    """DECLARED or PROTECTED when the function takes that fixture, '' otherwise."""
    if not inspect.isfunction(obj):
        return ""
    parameters = inspect.signature(obj).parameters
    return next((name for name in (DECLARED, PROTECTED) if name in parameters), "")


def _declared(spec: Spec, fixture: str) -> list[Any]:
    """The pytest params of a declared-items test: one per [[checks]] entry, or one per item [[protect]] sets feed."""
    if fixture == DECLARED:
        return [pytest.param(c, id=c.item, marks=pytest.mark.item(c.item)) for c in spec.checks]
    return [pytest.param(item_id, id=item_id, marks=pytest.mark.item(item_id)) for item_id in protect.items(spec)]


def no_declared_checks(config: pytest.Config, obj: object) -> list[Any] | None:
    """[] (no test at all) for a declared-items test when deploy.toml declares none; None: collect it as usual."""
    fixture = _declared_fixture(obj)
    if not fixture:
        return None
    loaded = context.load_spec(config)
    return [] if isinstance(loaded, Exception) or not _declared(loaded, fixture) else None


def parametrize_declared_checks(metafunc: pytest.Metafunc) -> None:
    """One test per [[checks]] entry and per item of [[protect]] sets, marked with its item (phase markers, --items, JUnit)."""
    for fixture in (DECLARED, PROTECTED):
        if fixture in metafunc.fixturenames:
            loaded = context.load_spec(metafunc.config)
            metafunc.parametrize(fixture, [] if isinstance(loaded, Exception) else _declared(loaded, fixture))


def declared_check(test: pytest.Item) -> Check | None:
    callspec = getattr(test, "callspec", None)
    found = callspec.params.get(DECLARED) if callspec is not None else None
    return found if isinstance(found, Check) else None


def protected_item(test: pytest.Item) -> str | None:
    callspec = getattr(test, "callspec", None)
    found = callspec.params.get(PROTECTED) if callspec is not None else None
    return found if isinstance(found, str) else None


# ------------------------------------------------------------------ items of one's own


def _doc_line(test: pytest.Item) -> str:
    doc = inspect.getdoc(getattr(test, "obj", None)) or ""
    return doc.strip().splitlines()[0] if doc.strip() else ""


def _definition(test: pytest.Item, item_id: str) -> catalogue.Item:
    """The item a test decides: a [[checks]] entry's, a built-in one, or the one its marker defines."""
    check = declared_check(test)
    if check is not None:
        return checks.definition(check)
    if protected_item(test) is not None:
        return protect.definition(next(e for e in context.spec(test.config).protect if e.item == item_id))
    marker = test.get_closest_marker("item")
    assert marker is not None
    extra = sorted(set(marker.kwargs) - set(MARKER_KEYS))
    if extra:
        raise catalogue.CatalogueError(
            f"item marker of {test.nodeid}: unknown argument {extra[0]!r} (it takes {', '.join(MARKER_KEYS)})"
        )
    given = {key: str(value) for key, value in marker.kwargs.items()}
    if item_id not in catalogue.ITEMS and not given.get("expected"):
        given["expected"] = _doc_line(test)
    return catalogue.define(item_id, **given, origin=f"test {test.nodeid}")


def _stand_in(item_id: str) -> catalogue.Item:
    """The entry of a test whose item cannot be defined (it errors with the reason, see `undefined`)."""
    phase = catalogue.phase_of(item_id)
    aspect = catalogue.PHASE_ASPECTS.get(phase, catalogue.ASPECTS[0])
    return catalogue.Item(item_id, phase, item_id, "", catalogue.DEFAULT_SEVERITY, aspect, origin="undefined")


def define_items(config: pytest.Config, tests: list[pytest.Item]) -> tuple[dict[str, catalogue.Item], dict[str, str]]:
    """(nodeid -> the item each log test decides, nodeid -> why a test's item cannot be defined).

    A problem is one line: an unknown id without a title, a clash with a built-in
    item, a bad severity, two tests defining one id differently. The items of the
    deployment's own are kept for the run's record.
    """
    entries: dict[str, catalogue.Item] = {}
    problems: dict[str, str] = {}
    own: dict[str, catalogue.Item] = {}
    for test in tests:
        item_id = context.item_id_of(test)
        if item_id is None:
            continue
        try:
            entry = _definition(test, item_id)
            if not entry.builtin:
                catalogue.merged([own.setdefault(entry.id, entry), entry])  # the same id defined differently
        except catalogue.CatalogueError as exc:
            problems[test.nodeid] = str(exc)
            entry = _stand_in(item_id)
        entries[test.nodeid] = entry
    context.own_items(config).update(own)
    xdist.share_own_items(config)
    return entries, problems


def undefined(test: pytest.Item, problem: str) -> None:
    """An xdist worker cannot stop the session: the test whose item cannot be defined is ERROR with the reason."""
    test.stash[context.UNDEFINED] = problem


def refuse_undefined(test: pytest.Item) -> None:
    problem = test.stash.get(context.UNDEFINED, None)
    if problem:
        raise DeploylogError(problem)


# ------------------------------------------------------------------ Query evidence of a test of one's own


@contextlib.contextmanager
def statements_of(test: pytest.Item) -> Iterator[None]:
    """Note the statements a log test runs through the session's snapshot during its call."""
    snap = getattr(test, "funcargs", {}).get("snapshot")
    if context.item_id_of(test) is None or not isinstance(snap, db.Snapshot):
        yield
        return
    start = len(snap.log)
    try:
        yield
    finally:
        context.observed(test).statements = snap.log[start:]


# ------------------------------------------------------------------ waivers


def _known_items(config: pytest.Config, spec: Spec) -> set[str]:
    """The ids a waiver may name: built-in, [[checks]], [[protect]], the items tests defined, those the log already holds."""
    known = {*catalogue.ITEMS, *(c.item for c in spec.checks), *(p.item for p in spec.protect), *context.own_items(config)}
    with contextlib.suppress(DeploylogError, OSError):  # a damaged state is set aside when the run is recorded
        known |= query.recorded_items(spec.paths.report_dir, spec.deployment_id)
    return known


def load_waivers(config: pytest.Config, spec: Spec, tests: list[pytest.Item]) -> None:
    """The waivers of this run, before any test runs; an item waived with run = false is skipped.

    WaiverError (one line) for a file that cannot be used: the session stops with exit 4.
    In an xdist worker the controller has checked the file already (xdist.Controller).
    """
    if not spec.waivers.file:
        return
    today = context.session_start(config).date()
    if context.is_worker(config):
        try:
            in_force = waivers_mod.for_run(spec, today)
        except DeploylogError:
            return
    else:
        in_force = waivers_mod.for_run(spec, today, _known_items(config, spec))
    config.stash[context.WAIVERS] = in_force
    for test in tests:
        item_id = context.item_id_of(test)
        waiver = in_force.active(item_id) if item_id else None
        if waiver is not None and not waiver.run:
            test.add_marker(pytest.mark.skip(reason=waiver.reason()))


def waive_report(test: pytest.Item, item_id: str, report: pytest.TestReport) -> None:
    """A failed setup or call under a waiver in force is pytest's expected failure (xfailed): it fails no run."""
    if report.when not in ("setup", "call") or not report.failed:
        return
    waiver = context.waivers(test.config).active(item_id)
    if waiver is not None and waiver.run:
        report.outcome = "skipped"
        report.wasxfail = waiver.reason()
