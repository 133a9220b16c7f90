"""PRE-DEPLOYMENT (T-24h): run the day before with `pytest -m preflight`."""

import pytest

from deploylog import preflight


@pytest.mark.item("P.1")
def test_users_notified(manual_result):
    """Users notified of the maintenance window: a human act, recorded with `deploylog record P.1`."""
    manual_result("P.1")


@pytest.mark.item("P.2")
def test_backups_verified(spec, host, verdict):
    """The newest dump in the backup directory is complete and readable by pg_restore."""
    verdict(preflight.backups_verified(spec, host))


@pytest.mark.item("P.3")
def test_repository_access(spec, host, verdict):
    """The module checkout is a git repository on the expected branch; its remote answers."""
    verdict(preflight.repository_access(spec, host))


@pytest.mark.item("P.4")
def test_disk_space(spec, verdict):
    """Free space above the threshold (default 10 GB) on the backup, code and log volumes."""
    verdict(preflight.disk_space(spec))


@pytest.mark.item("P.5")
def test_service_health(spec, snapshot, host, verdict):
    """The database answers; the Odoo service runs and its health URL answers."""
    verdict(preflight.service_health(spec, snapshot, host))


@pytest.mark.item("P.6")
def test_payment_manager_group(snapshot, spec, verdict):
    """Payment Manager group has >= 1 active member."""
    verdict(preflight.manager_group(snapshot, spec))
