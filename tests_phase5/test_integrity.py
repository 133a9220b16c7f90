"""PHASE 5: DATA INTEGRITY VERIFICATION — post minus baseline, and each protected set's fingerprint."""

import pytest

from deploylog import dbchecks


@pytest.mark.item("5.1")
def test_payment_count(snapshot, spec, baseline, item, verdict):
    """Payments: count and fingerprint against the baseline."""
    verdict(dbchecks.integrity(snapshot, spec, baseline, item))


@pytest.mark.item("5.2")
def test_posted_invoices_count(snapshot, spec, baseline, item, verdict):
    """Posted invoices: count and fingerprint against the baseline."""
    verdict(dbchecks.integrity(snapshot, spec, baseline, item))


@pytest.mark.item("5.3")
def test_reconciliation_count(snapshot, spec, baseline, item, verdict):
    """Reconciliation lines: count and fingerprint against the baseline."""
    verdict(dbchecks.integrity(snapshot, spec, baseline, item))


@pytest.mark.item("5.4")
def test_reconciled_payments_count(snapshot, spec, baseline, item, verdict):
    """Reconciled payments (both definitions): counts and fingerprint against the baseline."""
    verdict(dbchecks.integrity(snapshot, spec, baseline, item))
