"""PHASE 5: DATA INTEGRITY VERIFICATION — for each item the [[protect]] sets of deploy.toml feed (one test each):
post minus baseline for every set's counts, and every set's fingerprint (deploylog/fingerprint.py)."""

from deploylog import dbchecks


def test_protected_data(protected_item, snapshot, spec, baseline, verdict):
    """The item's protected sets: counts and fingerprints against the baseline."""
    verdict(dbchecks.integrity(snapshot, spec, baseline, protected_item))
