"""PHASE 4: FUNCTIONAL TESTS — the database half (4.1, 4.5-4.7). Guards 4.2-4.4: test_guards.py."""

import pytest

from deploylog import dbchecks


@pytest.mark.item("4.1")
def test_module_loaded(snapshot, spec, verdict):
    """Expected: state = installed | latest_version = the expected version."""
    verdict(dbchecks.module_loaded(snapshot, spec))


@pytest.mark.item("4.5")
def test_workflow_distribution(snapshot, spec, verdict):
    """Expected: normal distribution across workflow states, no anomalies."""
    verdict(dbchecks.workflow_distribution(snapshot, spec))


@pytest.mark.item("4.6")
def test_payment_manager_group(snapshot, spec, verdict):
    """Expected: >= 1 active member."""
    verdict(dbchecks.manager_members(snapshot, spec, "4.6"))


@pytest.mark.item("4.7")
def test_no_orphaned_records(snapshot, spec, verdict):
    """Expected: 0 orphaned reconciliation lines."""
    verdict(dbchecks.orphaned_lines(snapshot, spec))
