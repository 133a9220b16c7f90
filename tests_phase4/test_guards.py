"""PHASE 4, tests 4.2-4.4: the code guards named in deploy.toml's [[guards]], found by name in the
deployed code's AST; the group XML ids they name are resolved in the session's read-only snapshot."""

import pytest

from deploylog.hostchecks import guards


@pytest.mark.item("4.2")
def test_posted_payment_protection(spec, snapshot, host, item, verdict):
    """The guard of posted payments."""
    verdict(guards.check_item(spec, item, snapshot, host))


@pytest.mark.item("4.3")
def test_journal_entry_reset_protection(spec, snapshot, host, item, verdict):
    """The guard of posted journal entries."""
    verdict(guards.check_item(spec, item, snapshot, host))


@pytest.mark.item("4.4")
def test_reconciliation_protection(spec, snapshot, host, item, verdict):
    """The guard of reconciled payments."""
    verdict(guards.check_item(spec, item, snapshot, host))
