"""The sale-approval deployment's own item: a test of its own, the pytest way (docs/write-your-own-check.md)."""

import pytest

LIMIT_PARAMETER = "sale_order_approval.amount_limit"
DEFAULT_LIMIT = 10000  # the module's own default when the parameter is not set


@pytest.mark.item("4.20", title="Confirmed orders above the approval limit are approved", severity="high")
def test_confirmed_orders_above_the_limit_are_approved(snapshot):
    """No confirmed order above the approval limit lacks its approval."""
    limit = snapshot.scalar("SELECT value FROM ir_config_parameter WHERE key = %(key)s", {"key": LIMIT_PARAMETER})
    unapproved = snapshot.rows(
        """SELECT name, amount_total, approval_state FROM sale_order
           WHERE state = 'sale' AND amount_total > %(limit)s AND approval_state IS DISTINCT FROM 'approved'
           ORDER BY id""",
        {"limit": float(limit) if limit is not None else DEFAULT_LIMIT},
    )
    shown = ", ".join(f"{name} ({total}, {state or 'no approval state'})" for name, total, state in unapproved[:10])
    assert not unapproved, f"{len(unapproved)} confirmed order(s) above the approval limit not approved: {shown}"
