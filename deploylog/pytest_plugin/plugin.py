"""pytest wiring for deploylog: options, markers, fixtures, hooks. No logic here.

Loaded through the pytest11 entry point (pyproject.toml). The plugin is inert
in sessions that collect no log item (e.g. the project's own self-tests), so
it can stay installed everywhere.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Generator
from typing import Any

import pytest

from deploylog import catalogue
from deploylog.errors import DeploylogError
from deploylog.pytest_plugin import context, custom, integrations, options, outcome, reporter, xdist
from deploylog.spec import Spec

pytest_plugins = ["deploylog.pytest_plugin.fixtures"]


def pytest_addoption(parser: pytest.Parser) -> None:
    options.add(parser)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "item(id, title=, expected=, severity=, aspect=): the deployment-log item this test decides "
        "(e.g. '4.1'; an id of your own needs a title)",
    )
    for name, help_text in catalogue.MARKERS.items():
        config.addinivalue_line("markers", f"{name}: {help_text}")
    config.stash[context.SESSION_START] = xdist.session_start(config) or dt.datetime.now(dt.UTC)
    custom.add_test_paths(config)
    reporter.register(config)
    integrations.register(config)
    xdist.register(config)


@pytest.hookimpl(tryfirst=True)
def pytest_pycollect_makeitem(collector: pytest.Collector, name: str, obj: object) -> list[Any] | None:
    """The declared-checks test yields no test at all when deploy.toml declares no [[checks]]."""
    return custom.no_declared_checks(collector.config, obj)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    custom.parametrize_declared_checks(metafunc)


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Define each test's item (built-in or its own), derive its phase markers, then apply --items.

    A built-in item that is not in this deployment's runbook (deploy.toml lacks what it
    needs: runbook.py) is deselected like an item --items leaves out.
    tryfirst: markers must exist before pytest's own -m deselection runs.
    An item that cannot be defined (an unknown id without a title, a clash) stops
    the session with one line, exit status 4 (an xdist worker, which cannot stop
    the session, makes the test ERROR with that line).
    """
    wanted = context.wanted_items(config.getoption("items"))
    outside = context.not_in_runbook(config)
    keep: list[pytest.Item] = []
    drop: list[pytest.Item] = []
    entries, problems = custom.define_items(config, items)
    if problems and not context.is_worker(config):
        raise pytest.UsageError(f"deploylog: {next(iter(problems.values()))}")
    for test in items:
        entry = entries.get(test.nodeid)
        if entry is None:
            keep.append(test)
            continue
        if test.nodeid in problems:
            custom.undefined(test, problems[test.nodeid])
        if entry.phase:
            test.add_marker(entry.marker)
        if entry.is_post:
            test.add_marker("post")
        test.user_properties.append(("item", entry.id))
        (keep if (wanted is None or entry.id in wanted) and entry.id not in outside else drop).append(test)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


def pytest_collection_finish(session: pytest.Session) -> None:
    """A log run whose deploy.toml, waivers file or signing key cannot be used stops here: it writes nothing over any log."""
    config = session.config
    if config.option.collectonly or not any(context.item_id_of(node) for node in session.items):
        return
    problem: DeploylogError | None = None
    loaded = context.load_spec(config)
    if isinstance(loaded, Exception):
        problem = loaded if not context.is_worker(config) else None
    else:
        try:
            custom.load_waivers(config, loaded, session.items)
        except DeploylogError as exc:
            problem = exc
    if problem is not None:
        pytest.exit(f"deploylog: configuration error, nothing run or recorded: {problem}", int(pytest.ExitCode.USAGE_ERROR))
    if isinstance(loaded, Spec) and loaded.signing.enabled and loaded.signing.required and not context.is_worker(config):
        from deploylog.log import signing  # the log's renderers come with it: only a signed run needs them (start-up)

        try:  # find out now, not after the run, that it cannot be signed
            signing.identity(loaded)
        except DeploylogError as exc:
            pytest.exit(f"deploylog: signing error, nothing run or recorded: {exc}", int(pytest.ExitCode.USAGE_ERROR))


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    custom.refuse_undefined(item)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, None, None]:
    """Keep what a log test ran through the snapshot: its Query evidence when it records none itself."""
    with custom.statements_of(item):
        return (yield)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Every report of a log test carries its item; the last one carries its CheckResult."""
    report = yield
    item_id = context.item_id_of(item)
    if item_id is None:
        return report
    report.deploylog_item = item_id  # type: ignore[attr-defined]
    outcome.observe(item, call, report, full_trace=bool(item.config.option.fulltrace))
    custom.waive_report(item, item_id, report)
    if report.when == "teardown":
        result = outcome.final(item, item_id)
        item.stash[context.FINAL] = result
        report.deploylog_result = result.to_dict()  # type: ignore[attr-defined]
        report.user_properties.append(("status", result.status))
        integrations.add_html_extra(item.config, report, result)
    return report
