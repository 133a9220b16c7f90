"""PHASE 5: DATA INTEGRITY VERIFICATION — post minus baseline must be 0, fingerprints identical."""

import pytest

from deploylog import dbchecks


@pytest.mark.item("5.1")
def test_payment_count(snapshot, spec, baseline, verdict):
    """Expected: 0 (counts should match)."""
    verdict(dbchecks.integrity(snapshot, spec, baseline, "5.1"))


@pytest.mark.item("5.2")
def test_posted_invoices_count(snapshot, spec, baseline, verdict):
    """Expected: 0."""
    verdict(dbchecks.integrity(snapshot, spec, baseline, "5.2"))


@pytest.mark.item("5.3")
def test_reconciliation_count(snapshot, spec, baseline, verdict):
    """Expected: 0."""
    verdict(dbchecks.integrity(snapshot, spec, baseline, "5.3"))


@pytest.mark.item("5.4")
def test_reconciled_payments_count(snapshot, spec, baseline, verdict):
    """Expected: 0 (CRITICAL - should never decrease)."""
    verdict(dbchecks.integrity(snapshot, spec, baseline, "5.4"))
