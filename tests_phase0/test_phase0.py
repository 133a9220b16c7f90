"""PHASE 0: PRE-DEPLOYMENT VALIDATION — go / no-go, and the baseline phase 5 compares with."""

import pytest

from deploylog import dbchecks


@pytest.mark.item("0.1")
def test_payment_state_distribution(snapshot, spec, verdict):
    """Payments and invoices by state, and approval_state NULLs."""
    verdict(dbchecks.payment_state_distribution(snapshot, spec))


@pytest.mark.item("0.2")
def test_reconciliation_integrity(snapshot, spec, verdict):
    """Reconciliation lines, with their move and reconciliation, and orphans."""
    verdict(dbchecks.reconciliation_integrity(snapshot, spec))


@pytest.mark.item("0.3")
def test_reconciled_payments_baseline(snapshot, spec, verdict, phase0_started_at, recapture_baseline, all_hosts):
    """The baseline, in one snapshot: counts, fingerprints, module version, database identity, code HEAD of every host."""
    verdict(dbchecks.record_baseline(snapshot, spec, phase0_started_at, recapture_baseline, all_hosts))


@pytest.mark.item("0.4")
def test_user_permissions(snapshot, spec, verdict):
    """The payment groups, resolved by XML id, and the Manager group's active members."""
    verdict(dbchecks.user_permissions(snapshot, spec))
