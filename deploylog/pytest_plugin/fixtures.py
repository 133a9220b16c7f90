"""The fixtures a log test uses: the spec, the read-only snapshot, the baseline, its item id, `verdict`;
a [[checks]] entry's test also takes the baseline's data when it compares with it (`check_baseline`).

A fixture that cannot provide its value raises DeploylogError with one line
(unreachable database, missing baseline, invalid deploy.toml); the plugin
turns that into the item's ERROR in one place (outcome.py).
`host` itself is pytest-testinfra's fixture: the local machine without
--hosts, otherwise one instance per host, so host items run once per host.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, TextIO

import pytest

from deploylog import db, manual
from deploylog.log import state as state_mod
from deploylog.pytest_plugin import context, terminal, xdist
from deploylog.result import MANUAL, NA, PASS, CheckResult
from deploylog.spec import Check, Spec

if TYPE_CHECKING:  # imported by the fixtures that use them: `pytest --co` needs none of them (start-up)
    from testinfra.host import Host

    from deploylog import baseline as baseline_mod
    from deploylog.hostchecks import logs, service


@pytest.fixture(scope="session")
def spec(pytestconfig: pytest.Config) -> Spec:
    """The validated deployment description."""
    return context.spec(pytestconfig)


@pytest.fixture(scope="session")
def snapshot(spec: Spec, pytestconfig: pytest.Config) -> Iterator[db.Snapshot]:
    """The session's single REPEATABLE READ, READ ONLY transaction on the Odoo database.

    Under pytest-xdist every worker imports the snapshot the controller exported,
    so all items still read the database at one instant.
    """
    snap = db.open_snapshot(spec, shared=xdist.shared_snapshot(pytestconfig))
    yield snap
    snap.close()


@pytest.fixture(scope="session")
def stored_baseline(spec: Spec) -> baseline_mod.Baseline:
    """The digest-verified baseline written by phase 0 (no database needed)."""
    from deploylog import baseline as baseline_mod

    return baseline_mod.load(spec)


@pytest.fixture(scope="session")
def baseline(stored_baseline: baseline_mod.Baseline, snapshot: db.Snapshot) -> baseline_mod.Baseline:
    """The stored baseline, refused unless it was taken on the database this run is connected to."""
    from deploylog import baseline as baseline_mod

    baseline_mod.check_identity(stored_baseline, snapshot.identity())
    return stored_baseline


@pytest.fixture
def check_baseline(request: pytest.FixtureRequest, declared_check: Check) -> dict[str, Any] | None:
    """The baseline's data for a [[checks]] entry that compares with `baseline` (None for the others: no baseline needed)."""
    if not declared_check.expectation.uses_baseline:
        return None
    stored: baseline_mod.Baseline = request.getfixturevalue("baseline")
    return stored.data


@pytest.fixture(scope="session")
def progress_stream(pytestconfig: pytest.Config) -> TextIO | None:
    """Where long work in a test (the restore check of 1.1, phase 0) shows progress: the terminal, past pytest's capture.

    Give it to deploylog.progress.Progress(stream=...); None in an xdist worker (Progress then shows nothing).
    """
    return terminal.progress_stream(pytestconfig)


@pytest.fixture(scope="session")
def all_hosts(pytestconfig: pytest.Config) -> list[Host]:
    """Every host of the run (`--hosts`, built as pytest-testinfra builds them; this machine without it).

    For the items that read all hosts at once: phase 0 records the code HEAD of each.
    """
    import testinfra

    option = pytestconfig.option
    names: list[str] = option.hosts.split(",") if getattr(option, "hosts", None) else ["local://"]
    hosts = testinfra.get_hosts(
        names,
        connection=option.connection,
        ssh_config=option.ssh_config,
        ssh_identity_file=option.ssh_identity_file,
        sudo=option.sudo,
        sudo_user=option.sudo_user,
        ansible_inventory=option.ansible_inventory,
        force_ansible=option.force_ansible,
    )
    return sorted(hosts, key=lambda h: h.backend.get_pytest_id())


@pytest.fixture(scope="session")
def phase0_started_at(pytestconfig: pytest.Config) -> dt.datetime:
    return context.session_start(pytestconfig)


@pytest.fixture(scope="session")
def recapture_baseline(pytestconfig: pytest.Config) -> bool:
    return bool(pytestconfig.getoption("recapture_baseline"))


@pytest.fixture
def item(request: pytest.FixtureRequest) -> str:
    """This test's log item id, from its `item` marker (the one place a test names it)."""
    found = context.item_id_of(request.node)
    if found is None:
        raise pytest.UsageError(f"{request.node.nodeid} uses the `item` fixture without an item marker")
    return found


@pytest.fixture
def verdict(request: pytest.FixtureRequest) -> Callable[[CheckResult], CheckResult]:
    """Record a check's result for the log, then end the test as it says: pass, fail, or skip (NA, MANUAL)."""

    def decide(result: CheckResult) -> CheckResult:
        expected = context.item_id_of(request.node)
        if expected is not None and result.item != expected:
            raise AssertionError(f"test for item {expected} recorded a result for item {result.item}")
        context.record(request.node, result)
        if result.status in (NA, MANUAL):
            pytest.skip(f"{result.status}: {result.message}")
        if result.status != PASS:
            pytest.fail(f"[{result.item}] {result.message}", pytrace=False)
        return result

    return decide


@pytest.fixture
def manual_result(spec: Spec, item: str, verdict: Callable[[CheckResult], CheckResult]) -> Callable[[], CheckResult]:
    """Decide a manual item (P.1, phase 7) from the result a person recorded; MANUAL (pending) until then."""

    def decide() -> CheckResult:
        records = state_mod.records_of(spec.paths.report_dir, spec.deployment_id, "manual", item)
        return verdict(manual.result_for(item, records))

    return decide


@pytest.fixture(scope="module")
def service_state(spec: Spec, host: Host) -> service.ServiceState:
    """The Odoo service as the host reports it (3.1-3.4 read the same observation)."""
    from deploylog.hostchecks import service

    return service.read_state(spec, host)


@pytest.fixture(scope="module")
def log_scan(spec: Spec, stored_baseline: baseline_mod.Baseline, host: Host) -> logs.Scan:
    """One backwards scan of the Odoo log over the deployment window, shared by 6.1-6.3."""
    from deploylog.hostchecks import logs

    return logs.scan_for(spec, stored_baseline.started_at, host)
