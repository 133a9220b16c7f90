"""PHASE 4, tests 4.2-4.4: the code guards, found by name in the deployed code's AST."""

import pytest

from deploylog.hostchecks import guards
from deploylog.result import not_applicable


def _check(item, spec, snapshot, host):
    guard = guards.guard_for(spec, item)
    if guard is None:
        return not_applicable(item, f"no [[guards]] entry with item = {item!r} in deploy.toml")
    # group ids are resolved in the session's read-only snapshot (the same one 4.1-5.4 read)
    return guards.check_guard(spec, guard, snapshot.conn, host)


@pytest.mark.item("4.2")
def test_posted_payment_protection(spec, snapshot, host, verdict):
    """Expected: AccountPayment.write raises UserError on posted payments; the groups it names exist."""
    verdict(_check("4.2", spec, snapshot, host))


@pytest.mark.item("4.3")
def test_journal_entry_reset_protection(spec, snapshot, host, verdict):
    """Expected: AccountMove.button_draft raises on posted entries; the groups it names exist."""
    verdict(_check("4.3", spec, snapshot, host))


@pytest.mark.item("4.4")
def test_reconciliation_protection(spec, snapshot, host, verdict):
    """Expected: _is_payment_reconciled guards edits of reconciled payments (raise on its true branch)."""
    verdict(_check("4.4", spec, snapshot, host))
