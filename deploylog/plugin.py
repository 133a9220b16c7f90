"""pytest wiring for deploylog: options, markers, fixtures, hooks. No logic here.

Loaded through the pytest11 entry point (pyproject.toml). The plugin is inert
in sessions that collect no log item (e.g. the project's own self-tests), so
it can stay installed everywhere.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from deploylog import catalogue, context
from deploylog.result import ERROR, FAIL, NA, PASS, CheckResult

pytest_plugins = [
    "deploylog.fixtures_db",
    "deploylog.fixtures_manual",
    "deploylog.hostchecks.fixtures",
    "deploylog.log.reporter",
]


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("deploylog", "deployment execution log")
    group.addoption("--deploy-config", default="deploy.toml", help="deployment description (default: deploy.toml)")
    group.addoption("--dsn", default=None, help="libpq connection string or URI; overrides [database] dsn")
    group.addoption("--database", default=None, help="overrides [database] name")
    group.addoption("--report-dir", default=None, help="overrides [paths] report_dir")
    group.addoption("--baseline-dir", default=None, help="overrides [paths] baseline_dir")
    group.addoption("--expected-version", default=None, help="overrides [deployment] expected_version")
    group.addoption(
        "--set",
        action="append",
        default=[],
        metavar="SECTION.KEY=VALUE",
        help="override any deploy.toml value (value parsed as TOML), repeatable",
    )
    group.addoption("--items", default=None, help="run only these log items, comma separated (e.g. 4.1,5.4)")
    group.addoption(
        "--recapture-baseline",
        action="store_true",
        default=False,
        help="phase 0: replace an existing baseline of this deployment (the old one is archived)",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "item(id): the deployment-log item this test decides (e.g. '4.1')")
    for name, help_text in catalogue.MARKERS.items():
        config.addinivalue_line("markers", f"{name}: {help_text}")
    config.stash[context.SESSION_START] = dt.datetime.now(dt.UTC)


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Derive phase markers from each test's item id, then apply --items.

    tryfirst: markers must exist before pytest's own -m deselection runs.
    """
    wanted = context.wanted_items(config.getoption("items"))
    keep, drop = [], []
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


@pytest.fixture(scope="session")
def spec(pytestconfig: pytest.Config) -> Any:
    """The validated deployment description; a bad deploy.toml fails every item with one line."""
    return context.spec_or_fail(pytestconfig)


@pytest.fixture
def verdict(request: pytest.FixtureRequest) -> Callable[[CheckResult], CheckResult]:
    """Record a check's result for the log, then pass, fail or mark it NA."""

    def decide(result: CheckResult) -> CheckResult:
        expected = context.item_id_of(request.node)
        if expected is not None and result.item != expected:
            raise AssertionError(f"test for item {expected} recorded a result for item {result.item}")
        context.record(request.node, result)
        if result.status == NA:
            pytest.skip(f"NA: {result.message}")
        if result.status in (FAIL, ERROR):
            pytest.fail(f"[{result.item}] {result.message}", pytrace=False)
        assert result.status == PASS, result.message
        return result

    return decide


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    """Attach the item id and the recorded result to every report."""
    report = yield
    report.deploylog_item = context.item_id_of(item)
    recorded = context.recorded(item)
    report.deploylog_result = recorded.to_dict() if recorded else None
    return report
