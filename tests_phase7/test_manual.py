"""PHASE 7: POST-DEPLOYMENT TESTING (manual, next 24h). A tester performs each
test in Odoo and records it: `deploylog record 7.1 PASS --tester NAME --notes TEXT`."""

import pytest


@pytest.mark.item("7.1")
def test_regular_user_edit_restriction(manual_result):
    """A regular user tries to edit a posted payment."""
    manual_result()


@pytest.mark.item("7.2")
def test_manager_override(manual_result):
    """A Payment Manager does what the guards allow managers to do."""
    manual_result()


@pytest.mark.item("7.3")
def test_new_payment_workflow(manual_result):
    """A new payment goes through the approval workflow."""
    manual_result()


@pytest.mark.item("7.4")
def test_reconciled_payment_protection(manual_result):
    """A user tries to edit a reconciled payment."""
    manual_result()


@pytest.mark.item("7.5")
def test_print_voucher_button(manual_result):
    """The Print Voucher button of a payment."""
    manual_result()
