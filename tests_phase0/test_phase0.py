"""PHASE 0: PRE-DEPLOYMENT VALIDATION — go / no-go, and the baseline phase 5 compares with."""

import pytest

from deploylog import dbchecks


@pytest.mark.item("0.1")
def test_payment_state_distribution(snapshot, spec, verdict):
    """Expected: posted payments > 100, posted invoices > 50, no NULL approval_state."""
    verdict(dbchecks.payment_state_distribution(snapshot, spec))


@pytest.mark.item("0.2")
def test_reconciliation_integrity(snapshot, spec, verdict):
    """Expected: reconciliation_lines = with_move = with_reconciliation; orphaned = 0."""
    verdict(dbchecks.reconciliation_integrity(snapshot, spec))


@pytest.mark.item("0.3")
def test_reconciled_payments_baseline(snapshot, spec, verdict, phase0_started_at, recapture_baseline):
    """Baseline recorded (one snapshot: counts, fingerprints, module version, database identity)."""
    verdict(dbchecks.record_baseline(snapshot, spec, phase0_started_at, recapture_baseline))


@pytest.mark.item("0.4")
def test_user_permissions(snapshot, spec, verdict):
    """Expected: Payment Manager >= 1 active member; Payment Reviewer and Approver groups exist."""
    verdict(dbchecks.user_permissions(snapshot, spec))
