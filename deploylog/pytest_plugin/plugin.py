"""pytest wiring for deploylog: options, markers, fixtures, hooks. No logic here.

Loaded through the pytest11 entry point (pyproject.toml). The plugin is inert
in sessions that collect no log item (e.g. the project's own self-tests), so
it can stay installed everywhere.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Generator

import pytest

from deploylog import catalogue
from deploylog.errors import DeploylogError
from deploylog.log import signing
from deploylog.pytest_plugin import context, integrations, options, outcome, reporter, xdist

pytest_plugins = ["deploylog.pytest_plugin.fixtures"]


def pytest_addoption(parser: pytest.Parser) -> None:
    options.add(parser)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "item(id): the deployment-log item this test decides (e.g. '4.1')")
    for name, help_text in catalogue.MARKERS.items():
        config.addinivalue_line("markers", f"{name}: {help_text}")
    config.stash[context.SESSION_START] = xdist.session_start(config) or dt.datetime.now(dt.UTC)
    reporter.register(config)
    integrations.register(config)
    xdist.register(config)


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Derive phase markers from each test's item id, then apply --items.

    tryfirst: markers must exist before pytest's own -m deselection runs.
    """
    wanted = context.wanted_items(config.getoption("items"))
    keep: list[pytest.Item] = []
    drop: list[pytest.Item] = []
    for test in items:
        item_id = context.item_id_of(test)
        if item_id is None:
            keep.append(test)
            continue
        entry = catalogue.item(item_id)
        test.add_marker(entry.marker)
        if entry.is_post:
            test.add_marker("post")
        test.user_properties.append(("item", item_id))
        (keep if wanted is None or item_id in wanted else drop).append(test)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


def pytest_collection_finish(session: pytest.Session) -> None:
    """A log run whose deploy.toml cannot be loaded stops here: it writes nothing over any log."""
    config = session.config
    if context.is_worker(config) or config.option.collectonly:
        return
    if any(context.item_id_of(node) for node in session.items):
        loaded = context.load_spec(config)
        if isinstance(loaded, Exception):
            pytest.exit(f"deploylog: configuration error, nothing run or recorded: {loaded}", int(pytest.ExitCode.USAGE_ERROR))
        if loaded.signing.enabled and loaded.signing.required:  # find out now, not after the run, that it cannot be signed
            try:
                signing.identity(loaded)
            except DeploylogError as exc:
                pytest.exit(f"deploylog: signing error, nothing run or recorded: {exc}", int(pytest.ExitCode.USAGE_ERROR))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Every report of a log test carries its item; the last one carries its CheckResult."""
    report = yield
    item_id = context.item_id_of(item)
    if item_id is None:
        return report
    report.deploylog_item = item_id  # type: ignore[attr-defined]
    outcome.observe(item, call, report, full_trace=bool(item.config.option.fulltrace))
    if report.when == "teardown":
        result = outcome.final(item, item_id)
        report.deploylog_result = result.to_dict()  # type: ignore[attr-defined]
        report.user_properties.append(("status", result.status))
        integrations.add_html_extra(item.config, report, result)
    return report
