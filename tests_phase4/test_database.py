"""PHASE 4: FUNCTIONAL TESTS — the database half (4.1, 4.5-4.7). Guards 4.2-4.4: test_guards.py."""

import pytest

from deploylog import dbchecks


@pytest.mark.item("4.1")
def test_module_loaded(snapshot, spec, verdict):
    """Each deployed module's state and latest_version in ir_module_module, and no module left pending."""
    verdict(dbchecks.module_loaded(snapshot, spec))


@pytest.mark.item("4.5")
def test_workflow_distribution(snapshot, spec, verdict):
    """approval_state of the payments created in the window, and its anomalies."""
    verdict(dbchecks.workflow_distribution(snapshot, spec))


@pytest.mark.item("4.6")
def test_payment_manager_group(snapshot, spec, item, verdict):
    """The Payment Manager group's active members."""
    verdict(dbchecks.manager_members(snapshot, spec, item))


@pytest.mark.item("4.7")
def test_no_orphaned_records(snapshot, spec, verdict):
    """Reconciliation lines without (or with a vanished) journal entry or reconciliation."""
    verdict(dbchecks.orphaned_lines(snapshot, spec))
