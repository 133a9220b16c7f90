"""PRE-DEPLOYMENT (T-24h): run the day before with `pytest -m preflight`."""

import pytest

from deploylog import dbchecks, preflight


@pytest.mark.item("P.1")
def test_users_notified(manual_result):
    """A human act, recorded with `deploylog record P.1 PASS --tester NAME`."""
    manual_result()


@pytest.mark.item("P.2")
def test_backups_verified(spec, host, item, verdict):
    """The newest dump in the backup directory: its header and a full read by pg_restore."""
    verdict(preflight.backups_verified(spec, host, item))


@pytest.mark.item("P.3")
def test_repository_access(spec, host, verdict):
    """The module checkout: a git repository, its branch, its remote."""
    verdict(preflight.repository_access(spec, host))


@pytest.mark.item("P.4")
def test_disk_space(spec, host, verdict):
    """Free space on the backup, code and log volumes of the host."""
    verdict(preflight.disk_space(spec, host))


@pytest.mark.item("P.5")
def test_service_health(spec, snapshot, host, verdict):
    """The database's answer, the Odoo service and its health URL."""
    verdict(preflight.service_health(spec, snapshot, host))


@pytest.mark.item("P.6")
def test_payment_manager_group(snapshot, spec, item, verdict):
    """The Payment Manager group's active members."""
    verdict(dbchecks.manager_members(snapshot, spec, item))


@pytest.mark.item("P.7")
def test_database_read_access(spec, snapshot, verdict):
    """Every table, column and function the run reads: present, and readable by the connecting role."""
    verdict(preflight.read_access(spec, snapshot))
