"""The example deployment's module (examples/sale-approval): sale_order_approval, 17.0.1.1.0 -> 17.0.1.2.0.

An Odoo 17 customization of sales: an order above the company's approval limit
(ir_config_parameter `sale_order_approval.amount_limit`) needs an approval
before it is confirmed. 17.0.1.1.0 records the approval (approval_state,
approved_by_id, approval_date on sale.order); 17.0.1.2.0, the deployment, makes
confirmation refuse an order above the limit that is not approved, and shows
the approval on the order form. The database side is generate.populate(sales=True).
"""

from __future__ import annotations

from deploylog.demo.module_repo import ModuleSource

MODULE = "sale_order_approval"
OLD_VERSION = "17.0.1.1.0"
NEW_VERSION = "17.0.1.2.0"
LIMIT_PARAMETER = "sale_order_approval.amount_limit"
DEFAULT_LIMIT = 10000

MANIFEST = """\
# -*- coding: utf-8 -*-
{{
    'name': 'Sale Order Approval',
    'version': '{version}',
    'category': 'Sales/Sales',
    'summary': 'Orders above the approval limit are approved before they are confirmed',
    'author': 'OSUS Properties',
    'license': 'LGPL-3',
    'depends': ['sale'],
    'data': [
        'security/sale_approval_security.xml',
        'views/sale_order_views.xml',
    ],
    'installable': True,
    'application': False,
}}
"""

# The model's fields, the same in both versions (the deployment changes behaviour, not the schema).
ORDER_HEAD = f"""\
from odoo import _, fields, models
from odoo.exceptions import UserError


class SaleOrder(models.Model):
    _inherit = "sale.order"

    approval_state = fields.Selection(
        [("not_required", "Not Required"), ("to_approve", "To Approve"), ("approved", "Approved"), ("rejected", "Rejected")],
        default="not_required",
        copy=False,
        tracking=True,
    )
    approved_by_id = fields.Many2one("res.users", copy=False, readonly=True)
    approval_date = fields.Datetime(copy=False, readonly=True)

    def _approval_limit(self):
        return float(self.env["ir.config_parameter"].sudo().get_param("{LIMIT_PARAMETER}", {DEFAULT_LIMIT}))

    def action_request_approval(self):
        for order in self:
            order.approval_state = "to_approve" if order.amount_total > order._approval_limit() else "not_required"

    def action_approve(self):
        if not self.env.user.has_group("{MODULE}.group_sale_approver"):
            raise UserError(_("Only a sale approver can approve an order."))
        self.write({{"approval_state": "approved", "approved_by_id": self.env.user.id, "approval_date": fields.Datetime.now()}})
"""

ORDER_OLD = ORDER_HEAD

ORDER_NEW = (
    ORDER_HEAD
    + '''
    def action_confirm(self):
        """An order above the approval limit is confirmed only once approved."""
        for order in self:
            if order.amount_total > order._approval_limit() and order.approval_state != "approved":
                raise UserError(_("Order %s is above the approval limit and is not approved.", order.name))
        return super().action_confirm()
'''
)

VIEWS_OLD = """\
<?xml version="1.0" encoding="utf-8"?>
<odoo>
    <record id="view_order_form_approval" model="ir.ui.view">
        <field name="name">sale.order.form.approval</field>
        <field name="model">sale.order</field>
        <field name="inherit_id" ref="sale.view_order_form"/>
        <field name="arch" type="xml">
            <field name="payment_term_id" position="after">
                <field name="approval_state"/>
            </field>
        </field>
    </record>
</odoo>
"""

VIEWS_NEW = VIEWS_OLD.replace(
    '<field name="approval_state"/>',
    '<field name="approval_state"/>\n                <field name="approved_by_id" invisible="approval_state != \'approved\'"/>'
    '\n                <field name="approval_date" invisible="approval_state != \'approved\'"/>',
)

SECURITY = """\
<?xml version="1.0" encoding="utf-8"?>
<odoo>
    <record id="group_sale_approver" model="res.groups">
        <field name="name">Sale Approver</field>
        <field name="implied_ids" eval="[(4, ref('sales_team.group_sale_salesman_all_leads'))]"/>
    </record>
</odoo>
"""

SOURCE = ModuleSource(
    module=MODULE,
    old_version=OLD_VERSION,
    new_version=NEW_VERSION,
    manifest=MANIFEST,
    old_files={
        "__init__.py": "from . import models\n",
        "models/__init__.py": "from . import sale_order\n",
        "models/sale_order.py": ORDER_OLD,
        "views/sale_order_views.xml": VIEWS_OLD,
        "security/sale_approval_security.xml": SECURITY,
    },
    new_files={
        "models/sale_order.py": ORDER_NEW,
        "views/sale_order_views.xml": VIEWS_NEW,
    },
    title="Sale Order Approval: confirmation needs the approval",
)
