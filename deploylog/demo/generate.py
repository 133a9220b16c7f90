"""Generate an Odoo-shaped database (16, 17, 18 or 19), set-based, deterministic for a seed.

Every row is produced by INSERT ... SELECT over generate_series; randomness is
hashint8extended(row number, seed + salt), so the same seed gives the same
database whatever plan PostgreSQL picks. Size scales from a few hundred rows
(self-tests) to millions (bench/).

The Odoo 17 schema and data are built first; another version is that database
migrated the way Odoo's own migration leaves it (schema_<version>.sql, after
the data): Odoo 18 moves payments off their journal entries (the cash
journal's open payments then have none), Odoo 19 files groups under
privileges. Odoo 19 stores direct group memberships only; 16-18 store the
implied ones too, as Odoo writes them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import resources
from typing import TYPE_CHECKING, Any

from deploylog.demo import sale_approval

if TYPE_CHECKING:  # imported where used: start-up (pytest --co, the CLI) needs none of it
    import psycopg

MODULE = "payment_account_enhanced"
ODOO_VERSIONS = (16, 17, 18, 19)
# The migrations from the Odoo 17 database, applied in order, per version.
MIGRATIONS = {16: ("schema_16.sql",), 17: (), 18: ("schema_18.sql",), 19: ("schema_18.sql", "schema_19.sql")}
# Installed versions of the stock modules (OpenUpgrade's script folders name them).
MODULE_VERSIONS = {
    16: {"base": "16.0.1.3", "account": "16.0.1.2"},
    17: {"base": "17.0.1.3", "account": "17.0.1.2"},
    18: {"base": "18.0.1.3", "account": "18.0.1.3"},
    19: {"base": "19.0.1.3", "account": "19.0.1.4"},
}
PAYMENT_GROUPS = ("user", "verifier", "reviewer", "approver", "authorizer", "poster", "manager")


@dataclass(frozen=True)
class Size:
    payments: int
    invoices: int
    reconciliation_lines: int
    partners: int
    sale_orders: int = 300  # generated only with sales (populate(sales=True))

    @classmethod
    def scale(cls, factor: float) -> Size:
        """Scale 1 = 100k payments, 200k moves, ~600k move lines, 50k reconciliation lines (, 50k sale orders)."""
        return cls(
            payments=int(100_000 * factor),
            invoices=int(100_000 * factor),
            reconciliation_lines=int(50_000 * factor),
            partners=max(20, int(5_000 * factor)),
            sale_orders=int(50_000 * factor),
        )


SMALL = Size(payments=400, invoices=300, reconciliation_lines=120, partners=40, sale_orders=300)
# The sales part (examples/sale-approval): Odoo 17's sale tables with the sale_order_approval module,
# installed at the version before the example's deployment; orders above its limit need an approval.
SALE_MODULE_VERSION = sale_approval.OLD_VERSION


def rnd(expr: str, salt: int) -> str:
    """SQL for a uniform [0, 1) number derived from an integer expression and the seed parameter."""
    return f"((hashint8extended(({expr})::bigint, %(seed)s + {salt}) & 2147483647)::float8 / 2147483648.0)"


def _statements(name: str) -> list[str]:
    """The statements of one of this package's SQL files, in order (comments dropped)."""
    text = resources.files("deploylog.demo").joinpath(name).read_text()
    text = re.sub(r"--[^\n]*", "", text)
    return [s.strip() for s in text.split(";") if s.strip()]


def _schema_statements(name: str) -> tuple[list[str], list[str]]:
    """(tables and constraints, indexes): indexes are built after the bulk load."""
    statements = _statements(name)
    indexes = [s for s in statements if re.match(r"CREATE (UNIQUE )?INDEX", s)]
    return [s for s in statements if s not in indexes], indexes


IMPLIED_MEMBERSHIPS = """INSERT INTO res_groups_users_rel (gid, uid)
       WITH RECURSIVE closure(uid, gid) AS (
           SELECT uid, gid FROM res_groups_users_rel
           UNION SELECT c.uid, i.hid FROM closure c JOIN res_groups_implied_rel i ON i.gid = c.gid)
       SELECT DISTINCT gid, uid FROM closure ON CONFLICT DO NOTHING"""

BASE_DATA = [
    """INSERT INTO res_currency (id, name, symbol, rounding, decimal_places, active)
       VALUES (1, 'AED', 'AED', 0.01, 2, true), (2, 'USD', '$', 0.01, 2, true)""",
    """INSERT INTO res_partner (id, name, display_name, is_company, active, create_date, write_date)
       SELECT g, CASE WHEN g = 1 THEN 'OSUS Properties' ELSE 'Partner ' || g END,
              CASE WHEN g = 1 THEN 'OSUS Properties' ELSE 'Partner ' || g END,
              g %% 3 = 1, true, %(epoch)s, %(epoch)s
       FROM generate_series(1, %(partners)s) g""",
    "UPDATE res_partner SET commercial_partner_id = id",
    """INSERT INTO res_company (id, name, partner_id, currency_id, create_date)
       VALUES (1, 'OSUS Properties', 1, 1, %(epoch)s)""",
    """INSERT INTO res_users (id, login, partner_id, company_id, active, share, create_date)
       VALUES (1, '__system__', 1, 1, false, false, %(epoch)s),
              (2, 'admin', 1, 1, true, false, %(epoch)s),
              (3, 'finance.manager', 2, 1, true, false, %(epoch)s),
              (4, 'payment.reviewer', 3, 1, true, false, %(epoch)s),
              (5, 'payment.approver', 4, 1, true, false, %(epoch)s),
              (6, 'accountant', 5, 1, true, false, %(epoch)s),
              (7, 'former.manager', 6, 1, false, false, %(epoch)s),
              (8, 'portal.customer', 7, 1, true, true, %(epoch)s)""",
    """INSERT INTO ir_module_category (id, name, sequence, visible) VALUES
       (1, '{"en_US": "Administration"}', 1, true),
       (2, '{"en_US": "Accounting"}', 2, true),
       (3, '{"en_US": "Payment Management"}', 3, true),
       (4, '{"en_US": "User types"}', 4, false)""",
    """INSERT INTO res_groups (id, name, category_id, share, create_date) VALUES
       (1, '{"en_US": "Internal User", "ar_001": "مستخدم داخلي"}', 4, false, %(epoch)s),
       (2, '{"en_US": "Settings"}', 1, false, %(epoch)s),
       (3, '{"en_US": "Portal"}', 4, true, %(epoch)s),
       (4, '{"en_US": "Billing Administrator"}', 2, false, %(epoch)s),
       (10, '{"en_US": "Payment User"}', 3, false, %(epoch)s),
       (11, '{"en_US": "Payment Verifier"}', 3, false, %(epoch)s),
       (12, '{"en_US": "Payment Reviewer"}', 3, false, %(epoch)s),
       (13, '{"en_US": "Payment Approver"}', 3, false, %(epoch)s),
       (14, '{"en_US": "Payment Authorizer"}', 3, false, %(epoch)s),
       (15, '{"en_US": "Payment Poster"}', 3, false, %(epoch)s),
       (16, '{"en_US": "Payment Manager"}', 3, false, %(epoch)s)""",
    # each payment group implies the previous one; managers are billing admins too
    """INSERT INTO res_groups_implied_rel (gid, hid)
       VALUES (2, 1), (4, 1), (10, 1), (11, 10), (12, 11), (13, 12), (14, 13), (15, 14), (16, 15), (16, 4)""",
    """INSERT INTO ir_model_data (module, name, model, res_id, noupdate) VALUES
       ('base', 'group_user', 'res.groups', 1, false),
       ('base', 'group_system', 'res.groups', 2, false),
       ('base', 'group_portal', 'res.groups', 3, false),
       ('account', 'group_account_manager', 'res.groups', 4, false),
       ('payment_account_enhanced', 'group_payment_user', 'res.groups', 10, false),
       ('payment_account_enhanced', 'group_payment_verifier', 'res.groups', 11, false),
       ('payment_account_enhanced', 'group_payment_reviewer', 'res.groups', 12, false),
       ('payment_account_enhanced', 'group_payment_approver', 'res.groups', 13, false),
       ('payment_account_enhanced', 'group_payment_authorizer', 'res.groups', 14, false),
       ('payment_account_enhanced', 'group_payment_poster', 'res.groups', 15, false),
       ('payment_account_enhanced', 'group_payment_manager', 'res.groups', 16, false),
       ('base', 'user_root', 'res.users', 1, true),
       ('base', 'user_admin', 'res.users', 2, true),
       ('base', 'main_company', 'res.company', 1, true),
       ('base', 'module_category_payment_management', 'ir.module.category', 3, false)""",
    # direct memberships; Odoo 16-18 store the implied closure too (IMPLIED_MEMBERSHIPS)
    """INSERT INTO res_groups_users_rel (gid, uid) VALUES
       (2, 2), (4, 2), (16, 3), (12, 4), (13, 5), (10, 6), (16, 7), (3, 8),
       (1, 2), (1, 3), (1, 4), (1, 5), (1, 6), (1, 7)""",
    """INSERT INTO ir_module_module (name, shortdesc, author, latest_version, state, license, application, create_date)
       VALUES ('base', '{"en_US": "Base"}', 'Odoo S.A.', %(base_version)s, 'installed', 'LGPL-3', false, %(epoch)s),
              ('web', '{"en_US": "Web"}', 'Odoo S.A.', %(series)s || '.1.0', 'installed', 'LGPL-3', false, %(epoch)s),
              ('account', '{"en_US": "Invoicing"}', 'Odoo S.A.', %(account_version)s, 'installed', 'LGPL-3', true, %(epoch)s),
              ('account_payment', '{"en_US": "Payment - Account"}', 'Odoo S.A.', %(series)s || '.2.0', 'installed', 'LGPL-3', false,
               %(epoch)s),
              ('payment_account_enhanced', '{"en_US": "Payment Workflow Hardening"}', 'OSUS', %(module_version)s,
               'installed', 'LGPL-3', false, %(epoch)s),
              ('sale', '{"en_US": "Sales"}', 'Odoo S.A.', NULL, 'uninstalled', 'LGPL-3', true, %(epoch)s),
              ('stock', '{"en_US": "Inventory"}', 'Odoo S.A.', NULL, 'uninstalled', 'LGPL-3', true, %(epoch)s)""",
    """INSERT INTO res_lang (id, name, code, iso_code, url_code, active, direction, date_format, time_format, week_start,
                             grouping, decimal_point, thousands_sep, create_date) VALUES
       (1, 'English (US)', 'en_US', 'en', 'en', true, 'ltr', '%%m/%%d/%%Y', '%%H:%%M:%%S', '7', '[3,0]', '.', ',', %(epoch)s),
       (2, 'Arabic / الْعَرَبيّة', 'ar_001', 'ar', 'ar', true, 'rtl', '%%d/%%m/%%Y', '%%H:%%M:%%S', '6', '[3,0]', '.', ',', %(epoch)s),
       (3, 'French / Français', 'fr_FR', 'fr', 'fr', false, 'ltr', '%%d/%%m/%%Y', '%%H:%%M:%%S', '1', '[3,0]', ',', ' ', %(epoch)s)""",
    """INSERT INTO ir_config_parameter (key, value, create_date) VALUES
       ('database.create_date', %(epoch)s::text, %(epoch)s::timestamp),
       ('database.uuid', md5(%(seed)s::text), %(epoch)s::timestamp),
       ('web.base.url', 'http://localhost:8069', %(epoch)s::timestamp)""",
    """INSERT INTO account_account (id, name, code, account_type, reconcile, company_id) VALUES
       (1, '{"en_US": "Account Receivable"}', '121000', 'asset_receivable', true, 1),
       (2, '{"en_US": "Account Payable"}', '211000', 'liability_payable', true, 1),
       (3, '{"en_US": "Bank"}', '101401', 'asset_cash', false, 1),
       (4, '{"en_US": "Outstanding Receipts"}', '101402', 'asset_current', true, 1),
       (5, '{"en_US": "Outstanding Payments"}', '101403', 'asset_current', true, 1),
       (6, '{"en_US": "Product Sales"}', '400000', 'income', false, 1),
       (7, '{"en_US": "Expenses"}', '600000', 'expense', false, 1),
       (8, '{"en_US": "VAT 5%%"}', '251000', 'liability_current', false, 1)""",
    """INSERT INTO account_journal (id, name, code, type, company_id, default_account_id, sequence) VALUES
       (1, '{"en_US": "Customer Invoices"}', 'INV', 'sale', 1, 6, 5),
       (2, '{"en_US": "Vendor Bills"}', 'BILL', 'purchase', 1, 7, 6),
       (3, '{"en_US": "Bank"}', 'BNK1', 'bank', 1, 3, 10),
       (4, '{"en_US": "Cash"}', 'CSH1', 'cash', 1, 3, 11),
       (5, '{"en_US": "Miscellaneous Operations"}', 'MISC', 'general', 1, NULL, 9)""",
]

INVOICES = f"""
INSERT INTO account_move (id, sequence_prefix, sequence_number, name, date, state, move_type, journal_id, company_id,
    currency_id, partner_id, commercial_partner_id, invoice_date, invoice_date_due, amount_untaxed, amount_tax,
    amount_total, amount_residual, amount_untaxed_signed, amount_total_signed, amount_residual_signed,
    payment_state, posted_before, approval_state, create_uid, create_date, write_uid, write_date)
SELECT g, prefix, g, CASE WHEN state = 'draft' THEN '/' ELSE prefix || lpad(g::text, 6, '0') END,
    day, state, move_type, CASE WHEN move_type LIKE 'out%%' THEN 1 ELSE 2 END, 1, 1, partner, partner,
    day, day + 30, untaxed, tax, untaxed + tax, CASE WHEN state = 'posted' THEN untaxed + tax ELSE 0 END,
    untaxed * sign, (untaxed + tax) * sign, CASE WHEN state = 'posted' THEN (untaxed + tax) * sign ELSE 0 END,
    CASE WHEN state = 'posted' THEN 'not_paid' ELSE 'not_paid' END, state <> 'draft',
    CASE WHEN state = 'posted' THEN 'posted' WHEN state = 'cancel' THEN 'cancelled'
         ELSE (ARRAY['draft', 'under_review', 'for_approval', 'approved'])[1 + floor(r_flow * 4)::int] END,
    2, day + interval '9 hours', 2, day + interval '10 hours'
FROM (
    SELECT g, r_flow, partner, untaxed, round(untaxed * 0.05, 2) AS tax, day, move_type,
        CASE WHEN move_type IN ('out_invoice', 'in_refund') THEN 1 ELSE -1 END AS sign,
        CASE move_type WHEN 'out_invoice' THEN 'INV/' WHEN 'out_refund' THEN 'RINV/'
             WHEN 'in_invoice' THEN 'BILL/' ELSE 'RBILL/' END || extract(year FROM day) || '/' AS prefix,
        CASE WHEN r_state < 0.85 THEN 'posted' WHEN r_state < 0.95 THEN 'draft' ELSE 'cancel' END AS state
    FROM (
        SELECT g, {rnd("g", 1)} AS r_state, {rnd("g", 3)} AS r_flow,
            1 + floor({rnd("g", 4)} * %(partners)s)::int AS partner,
            round((100 + {rnd("g", 5)} * 49900)::numeric, 2) AS untaxed,
            (%(today)s::date - floor({rnd("g", 6)} * 1095)::int) AS day,
            CASE WHEN {rnd("g", 2)} < 0.55 THEN 'out_invoice' WHEN {rnd("g", 2)} < 0.65 THEN 'out_refund'
                 WHEN {rnd("g", 2)} < 0.95 THEN 'in_invoice' ELSE 'in_refund' END AS move_type
        FROM generate_series(1, %(invoices)s) g) raw) s
"""

PAYMENT_MOVES = f"""
INSERT INTO account_move (id, sequence_prefix, sequence_number, name, date, state, move_type, journal_id, company_id,
    currency_id, partner_id, commercial_partner_id, payment_id, amount_total, amount_total_signed,
    payment_state, posted_before, approval_state, create_uid, create_date, write_uid, write_date)
SELECT %(invoices)s + g, prefix, g, CASE WHEN state = 'draft' THEN '/' ELSE prefix || lpad(g::text, 6, '0') END,
    created::date, state, 'entry', journal, 1, 1, partner, partner, NULL, amount, amount,
    'not_paid', state <> 'draft',
    CASE WHEN state = 'posted' THEN 'posted' WHEN state = 'cancel' THEN 'cancelled'
         ELSE (ARRAY['draft', 'under_review', 'for_approval', 'approved'])[1 + floor(r_flow * 4)::int] END,
    2, created, 2, created + interval '1 hour'
FROM (
    SELECT g, r_flow, partner, amount, journal, created,
        CASE WHEN journal = 3 THEN 'PBNK1/' ELSE 'PCSH1/' END || extract(year FROM created) || '/' AS prefix,
        CASE WHEN r_state < 0.80 THEN 'posted' WHEN r_state < 0.95 THEN 'draft' ELSE 'cancel' END AS state
    FROM (
        SELECT g, {rnd("g", 11)} AS r_state, {rnd("g", 12)} AS r_flow,
            1 + floor({rnd("g", 13)} * %(partners)s)::int AS partner,
            round((50 + {rnd("g", 14)} * 19950)::numeric, 2) AS amount,
            CASE WHEN {rnd("g", 15)} < 0.85 THEN 3 ELSE 4 END AS journal,
            (%(today)s::timestamp - make_interval(days => floor(power({rnd("g", 16)}, 1.3) * 1095)::int,
                                                   mins => floor({rnd("g", 17)} * 600)::int)) AS created
        FROM generate_series(1, %(payments)s) g) raw) s
"""

PAYMENTS = f"""
INSERT INTO account_payment (id, move_id, is_reconciled, is_matched, is_internal_transfer, amount, payment_type,
    partner_type, payment_reference, currency_id, partner_id, outstanding_account_id, destination_account_id,
    approval_state, voucher_number, reviewer_id, reviewer_date, approver_id, approver_date,
    authorizer_id, authorizer_date, requires_authorization, remarks, create_uid, create_date, write_uid, write_date)
SELECT g, m.id, reconciled, reconciled OR {rnd("g", 22)} < 0.1, false, m.amount_total,
    direction, CASE WHEN direction = 'inbound' THEN 'customer' ELSE 'supplier' END,
    'REF' || g, 1, m.partner_id, CASE WHEN direction = 'inbound' THEN 4 ELSE 5 END,
    CASE WHEN direction = 'inbound' THEN 1 ELSE 2 END,
    flow, CASE WHEN m.state = 'posted' THEN 'PV' || lpad(g::text, 7, '0') END,
    CASE WHEN flow IN ('for_approval', 'for_authorization', 'approved', 'posted') THEN 4 END,
    CASE WHEN flow IN ('for_approval', 'for_authorization', 'approved', 'posted') THEN m.create_date END,
    CASE WHEN flow IN ('for_authorization', 'approved', 'posted') THEN 5 END,
    CASE WHEN flow IN ('for_authorization', 'approved', 'posted') THEN m.create_date END,
    CASE WHEN flow IN ('approved', 'posted') AND big THEN 3 END,
    CASE WHEN flow IN ('approved', 'posted') AND big THEN m.create_date END,
    big, NULL, 2, m.create_date, 2, m.write_date
FROM (
    SELECT g, m.id, m.amount_total, m.partner_id, m.state, m.create_date, m.write_date,
        m.state = 'posted' AND {rnd("g", 21)} < 0.6 AS reconciled,
        CASE WHEN {rnd("g", 23)} < 0.6 THEN 'inbound' ELSE 'outbound' END AS direction,
        m.amount_total > 10000 AS big,
        CASE WHEN m.state = 'posted' THEN 'posted' WHEN m.state = 'cancel' THEN 'cancelled'
             WHEN m.approval_state = 'approved' AND m.amount_total > 10000 AND {rnd("g", 24)} < 0.5
             THEN 'for_authorization' ELSE m.approval_state END AS flow
    FROM generate_series(1, %(payments)s) g JOIN account_move m ON m.id = %(invoices)s + g) m
"""

LINK_PAYMENT_MOVES = "UPDATE account_move m SET payment_id = p.id FROM account_payment p WHERE p.move_id = m.id"

# Invoices: receivable/payable, revenue/expense, tax. Payments: liquidity, counterpart.
INVOICE_LINES = """
INSERT INTO account_move_line (id, move_id, journal_id, company_id, company_currency_id, move_name, parent_state,
    date, sequence, account_id, partner_id, currency_id, name, display_type, debit, credit, balance,
    amount_currency, amount_residual, amount_residual_currency, reconciled, create_date, write_date)
SELECT 3 * (m.id - 1) + k, m.id, m.journal_id, 1, 1, m.name, m.state, m.date, k,
    CASE k WHEN 1 THEN (CASE WHEN m.move_type LIKE 'out%%' THEN 1 ELSE 2 END)
           WHEN 2 THEN (CASE WHEN m.move_type LIKE 'out%%' THEN 6 ELSE 7 END) ELSE 8 END,
    m.partner_id, 1, CASE k WHEN 1 THEN m.name WHEN 2 THEN 'Services' ELSE 'VAT 5%%' END,
    CASE k WHEN 1 THEN 'payment_term' WHEN 2 THEN 'product' ELSE 'tax' END,
    greatest(bal, 0), greatest(-bal, 0), bal, bal, CASE WHEN k = 1 THEN bal ELSE 0 END,
    CASE WHEN k = 1 THEN bal ELSE 0 END, false, m.create_date, m.write_date
FROM account_move m CROSS JOIN generate_series(1, 3) k
CROSS JOIN LATERAL (SELECT CASE WHEN m.move_type IN ('out_invoice', 'in_refund') THEN 1 ELSE -1 END *
    CASE k WHEN 1 THEN m.amount_total WHEN 2 THEN -m.amount_untaxed ELSE -m.amount_tax END AS bal) b
WHERE m.id <= %(invoices)s
"""

PAYMENT_LINES = """
INSERT INTO account_move_line (id, move_id, journal_id, company_id, company_currency_id, move_name, parent_state,
    date, sequence, account_id, partner_id, currency_id, name, display_type, debit, credit, balance,
    amount_currency, amount_residual, amount_residual_currency, reconciled, payment_id, create_date, write_date)
SELECT 3 * %(invoices)s + 2 * (p.id - 1) + k, m.id, m.journal_id, 1, 1, m.name, m.state, m.date, k,
    CASE WHEN k = 1 THEN p.outstanding_account_id ELSE p.destination_account_id END,
    p.partner_id, 1, CASE WHEN k = 1 THEN 'Payment ' || p.payment_reference ELSE m.name END, 'entry',
    greatest(bal, 0), greatest(-bal, 0), bal, bal, CASE WHEN k = 2 THEN bal ELSE 0 END,
    CASE WHEN k = 2 THEN bal ELSE 0 END, false, p.id, m.create_date, m.write_date
FROM account_payment p JOIN account_move m ON m.id = p.move_id CROSS JOIN generate_series(1, 2) k
CROSS JOIN LATERAL (SELECT CASE WHEN p.payment_type = 'inbound' THEN 1 ELSE -1 END *
    CASE WHEN k = 1 THEN p.amount ELSE -p.amount END AS bal) b
"""

# Reconciled payments are matched to a posted invoice of their direction; 20%
# are partial (half the amount), the rest fully reconciled.
PARTIALS = f"""
WITH targets AS (
    SELECT m.id AS move_id, m.move_type LIKE 'out%%' AS customer,
           row_number() OVER (PARTITION BY m.move_type LIKE 'out%%' ORDER BY m.id) AS n,
           count(*) OVER (PARTITION BY m.move_type LIKE 'out%%') AS total
    FROM account_move m WHERE m.id <= %(invoices)s AND m.state = 'posted' AND m.move_type IN ('out_invoice', 'in_invoice')
), pays AS (
    SELECT p.id, p.amount, p.payment_type = 'inbound' AS customer, {rnd("p.id", 31)} < 0.2 AS half,
           3 * %(invoices)s + 2 * (p.id - 1) + 2 AS counterpart_line
    FROM account_payment p WHERE p.is_reconciled
)
INSERT INTO account_partial_reconcile (id, debit_move_id, credit_move_id, amount, debit_amount_currency,
    credit_amount_currency, debit_currency_id, credit_currency_id, company_id, max_date, create_date)
SELECT pays.id,
    CASE WHEN pays.customer THEN 3 * (t.move_id - 1) + 1 ELSE pays.counterpart_line END,
    CASE WHEN pays.customer THEN pays.counterpart_line ELSE 3 * (t.move_id - 1) + 1 END,
    amt, amt, amt, 1, 1, 1, %(today)s::date, %(today)s::timestamp
FROM pays
JOIN LATERAL (SELECT CASE WHEN pays.half THEN round(pays.amount / 2, 2) ELSE pays.amount END AS amt) a ON true
JOIN (SELECT customer, max(total) AS total FROM targets GROUP BY customer) tot ON tot.customer = pays.customer
JOIN targets t ON t.customer = pays.customer AND t.n = 1 + (pays.id::bigint * 7919) %% tot.total
"""

# Partial i belongs to payment i; a payment's counterpart line id and an
# invoice's first line id follow from the numbering above, so these updates
# join on equalities (hash joins), never on "id IN (a, b)".
COUNTERPART = "(3 * %(invoices)s + 2 * (pr.id - 1) + 2)"
FULL_RECONCILES = [
    """INSERT INTO account_full_reconcile (id, create_date)
       SELECT pr.id, pr.create_date FROM account_partial_reconcile pr JOIN account_payment p ON p.id = pr.id
       WHERE pr.amount = p.amount""",
    "UPDATE account_partial_reconcile SET full_reconcile_id = id WHERE id IN (SELECT id FROM account_full_reconcile)",
    f"""UPDATE account_move_line l SET reconciled = true, amount_residual = 0, amount_residual_currency = 0,
           full_reconcile_id = pr.id, matching_number = pr.id::text
       FROM account_partial_reconcile pr
       WHERE pr.full_reconcile_id IS NOT NULL AND l.id = {COUNTERPART}""",
    f"""UPDATE account_move_line l SET matching_number = 'P' || pr.id,
           amount_residual = l.balance + CASE WHEN l.balance > 0 THEN -pr.amount ELSE pr.amount END
       FROM account_partial_reconcile pr
       WHERE pr.full_reconcile_id IS NULL AND l.id = {COUNTERPART}""",
    # invoices: residual and payment_state from what was reconciled against them
    f"""UPDATE account_move m SET amount_residual = greatest(m.amount_total - r.paid, 0),
           payment_state = CASE WHEN r.paid >= m.amount_total THEN 'paid' ELSE 'partial' END
       FROM (SELECT (CASE WHEN pr.debit_move_id = {COUNTERPART} THEN pr.credit_move_id ELSE pr.debit_move_id END - 1) / 3 + 1
                    AS move_id, sum(pr.amount) AS paid
             FROM account_partial_reconcile pr GROUP BY 1) r
       WHERE m.id = r.move_id""",
    """UPDATE account_move m SET payment_state = CASE WHEN p.is_reconciled THEN 'paid' ELSE 'not_paid' END
       FROM account_payment p WHERE p.move_id = m.id AND m.state = 'posted'""",
]

BANK_RECONCILIATION = [
    """INSERT INTO account_bank_reconciliation (id, name, journal_id, date, state, create_date)
       SELECT g, 'BNK1/REC/' || lpad(g::text, 5, '0'), 3, %(today)s::date - g, 'done', %(today)s::timestamp - make_interval(days => g)
       FROM generate_series(1, greatest(1, ceil(%(reconciliation_lines)s / 50.0)::int)) g""",
    """INSERT INTO account_bank_reconciliation_line (id, reconciliation_id, move_id, amount, create_date)
       SELECT n, 1 + (n - 1) / 50, move_id, amount, create_date
       FROM (SELECT row_number() OVER (ORDER BY p.id) AS n, p.move_id, p.amount, p.create_date
             FROM account_payment p JOIN account_move m ON m.id = p.move_id
             WHERE p.is_reconciled AND m.journal_id = 3) s
       WHERE n <= %(reconciliation_lines)s""",
]

# Sales (Odoo 17: states draft, sent, sale, cancel; confirmed orders may be `locked`). Orders first,
# then their lines (a section line on some orders, 1-4 product lines), then the totals from the
# lines, then the approval the sale_order_approval module recorded: above the limit a confirmed
# order was approved (by finance.manager), below it none was required.
SALE_ORDERS = f"""
INSERT INTO sale_order (id, name, state, locked, company_id, partner_id, partner_invoice_id, partner_shipping_id,
    date_order, validity_date, currency_id, currency_rate, user_id, require_signature, require_payment,
    prepayment_percent, invoice_status, create_uid, create_date, write_uid, write_date)
SELECT g, 'S' || lpad(g::text, 5, '0'), state, state = 'sale' AND r_lock < 0.3, 1, partner, partner, partner,
    CASE WHEN state = 'sale' THEN created + interval '1 hour' ELSE created END, created::date + 30, 1, 1.0,
    CASE WHEN r_user < 0.5 THEN 2 ELSE 6 END, true, false, 1.0,
    CASE WHEN state = 'sale' THEN 'to invoice' ELSE 'no' END, 2, created, 2, created + interval '2 hours'
FROM (
    SELECT g, {rnd("g", 42)} AS r_lock, {rnd("g", 43)} AS r_user,
        1 + floor({rnd("g", 44)} * %(partners)s)::int AS partner,
        CASE WHEN {rnd("g", 41)} < 0.15 THEN 'draft' WHEN {rnd("g", 41)} < 0.25 THEN 'sent'
             WHEN {rnd("g", 41)} < 0.9 THEN 'sale' ELSE 'cancel' END AS state,
        (%(today)s::timestamp - make_interval(days => 1 + floor({rnd("g", 45)} * 720)::int,
                                               mins => floor({rnd("g", 46)} * 600)::int)) AS created
    FROM generate_series(1, %(sale_orders)s) g) s
"""

SALE_LINES = f"""
INSERT INTO sale_order_line (id, order_id, sequence, company_id, currency_id, order_partner_id, salesman_id, state,
    display_type, is_downpayment, is_expense, product_id, product_uom_qty, product_uom, name, price_unit, discount,
    price_subtotal, price_tax, price_total, price_reduce_taxexcl, price_reduce_taxinc, customer_lead,
    qty_delivered_method, qty_delivered, qty_invoiced, qty_to_invoice, invoice_status, untaxed_amount_invoiced,
    untaxed_amount_to_invoice, create_uid, create_date, write_uid, write_date)
SELECT 5 * (o.id - 1) + k + 1, o.id, 10 * (k + 1), 1, 1, o.partner_id, o.user_id, o.state,
    CASE WHEN k = 0 THEN 'line_section' END, false, false,
    CASE WHEN k > 0 THEN product END, CASE WHEN k > 0 THEN qty ELSE 0 END, CASE WHEN k > 0 THEN 1 END,
    CASE WHEN k = 0 THEN 'Products' ELSE '[P' || product || '] Product ' || product END,
    CASE WHEN k > 0 THEN price ELSE 0 END, 0, subtotal, round(subtotal * 0.05, 2)::float8, subtotal + round(subtotal * 0.05, 2),
    CASE WHEN k > 0 THEN price END, CASE WHEN k > 0 THEN round(price * 1.05, 2) END, 0, 'manual', 0, 0,
    CASE WHEN o.state = 'sale' THEN qty ELSE 0 END, o.invoice_status, 0,
    CASE WHEN o.state = 'sale' THEN subtotal ELSE 0 END, 2, o.create_date, 2, o.write_date
FROM sale_order o CROSS JOIN generate_series(0, 4) k
CROSS JOIN LATERAL (SELECT 1 + floor({rnd("5 * o.id + k", 51)} * 20)::int AS product,
                           (1 + floor({rnd("5 * o.id + k", 52)} * 10))::numeric AS qty,
                           round((10 + {rnd("5 * o.id + k", 53)} * 2990)::numeric, 2) AS price) p
CROSS JOIN LATERAL (SELECT CASE WHEN k > 0 THEN p.qty * p.price ELSE 0 END AS subtotal) a
WHERE (k = 0 AND {rnd("o.id", 54)} < 0.1) OR (k > 0 AND k <= 1 + floor({rnd("o.id", 55)} * 4))
"""

SALE_TOTALS = [
    """UPDATE sale_order o SET amount_untaxed = t.untaxed, amount_tax = t.tax, amount_total = t.untaxed + t.tax
       FROM (SELECT order_id, sum(price_subtotal) AS untaxed, round(sum(price_tax)::numeric, 2) AS tax
             FROM sale_order_line GROUP BY order_id) t
       WHERE t.order_id = o.id""",
    """UPDATE sale_order SET
           approval_state = CASE WHEN amount_total <= %(approval_limit)s THEN 'not_required'
                                 WHEN state IN ('sale', 'sent') THEN 'approved'
                                 WHEN state = 'cancel' THEN 'rejected' ELSE 'to_approve' END,
           approved_by_id = CASE WHEN amount_total > %(approval_limit)s AND state IN ('sale', 'sent') THEN 3 END,
           approval_date = CASE WHEN amount_total > %(approval_limit)s AND state IN ('sale', 'sent')
                                THEN date_order - interval '30 minutes' END""",
    # the modules the sale tables belong to: sale installed (Odoo 17's 17.0.1.2), the example's module
    """UPDATE ir_module_module SET state = 'installed', latest_version = %(series)s || '.1.2' WHERE name = 'sale'""",
    """INSERT INTO ir_module_module (name, shortdesc, author, latest_version, state, license, application, create_date)
       VALUES (%(sale_module)s, '{"en_US": "Sale Order Approval"}', 'OSUS', %(sale_module_version)s, 'installed',
               'LGPL-3', false, %(epoch)s)""",
    """INSERT INTO ir_config_parameter (key, value, create_date)
       VALUES (%(approval_limit_key)s, %(approval_limit)s::text, %(epoch)s::timestamp)""",
]

# Statistics between bulk steps: the foreign-key checks of the next step plan
# their look-ups on them (an unanalysed table gets a sequential scan per row).
ANALYZE = "ANALYZE"

SEQUENCE_TABLES = (
    "res_currency",
    "res_partner",
    "res_company",
    "res_users",
    "ir_module_category",
    "res_groups",
    "ir_model_data",
    "ir_module_module",
    "account_account",
    "account_journal",
    "account_full_reconcile",
    "account_move",
    "account_payment",
    "account_move_line",
    "account_partial_reconcile",
)


def _sync_sequences(conn: psycopg.Connection, tables: tuple[str, ...]) -> None:
    from psycopg import sql

    for table in tables:
        conn.execute(
            sql.SQL("SELECT setval(pg_get_serial_sequence({t}, 'id'), coalesce((SELECT max(id) FROM {i}), 0) + 1, false)").format(
                t=sql.Literal(table), i=sql.Identifier(table)
            )
        )


def create_database(admin_dsn: str, name: str) -> None:
    import psycopg
    from psycopg import sql

    with psycopg.connect(admin_dsn, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        conn.execute(sql.SQL("CREATE DATABASE {} TEMPLATE template0 ENCODING 'UTF8'").format(sql.Identifier(name)))


def populate(
    dsn: str,
    size: Size = SMALL,
    seed: int = 17,
    today: str | None = None,
    module_version: str | None = None,
    bank_reconciliation: bool = True,
    odoo: int = 17,
    sales: bool = False,
    sale_module_version: str = SALE_MODULE_VERSION,
) -> None:
    """Load the schema and the data of Odoo `odoo` into an empty database (module at `module_version`,
    default <odoo>.0.1.0.8); with `sales`, Odoo 17's sale tables too and the example's sale_order_approval
    module at `sale_module_version` (schema_sale.sql)."""
    import datetime as dt

    import psycopg

    if odoo not in ODOO_VERSIONS:
        raise ValueError(f"Odoo {odoo}: the generator builds {', '.join(map(str, ODOO_VERSIONS))}")
    if sales and odoo != 17:
        raise ValueError(f"Odoo {odoo}: the sale tables are generated as Odoo 17 lays them out (schema_sale.sql)")
    params: dict[str, Any] = {
        "seed": seed,
        # yesterday: the data's times (up to day + 10 h) are all in the past, whatever the time of day
        "today": today or (dt.date.today() - dt.timedelta(days=1)).isoformat(),
        "epoch": "2023-01-02 08:00:00",
        "module_version": module_version or f"{odoo}.0.1.0.8",
        "series": f"{odoo}.0",
        "base_version": MODULE_VERSIONS[odoo]["base"],
        "account_version": MODULE_VERSIONS[odoo]["account"],
        "payments": size.payments,
        "invoices": size.invoices,
        "reconciliation_lines": size.reconciliation_lines,
        "partners": size.partners,
        "sale_orders": size.sale_orders,
        "sale_module": sale_approval.MODULE,
        "sale_module_version": sale_module_version,
        "approval_limit": sale_approval.DEFAULT_LIMIT,
        "approval_limit_key": sale_approval.LIMIT_PARAMETER,
    }
    tables, indexes = _schema_statements("schema.sql")
    if bank_reconciliation:
        extra_tables, extra_indexes = _schema_statements("schema_bank_reconciliation.sql")
        tables, indexes = tables + extra_tables, indexes + extra_indexes
    if sales:
        sale_tables, sale_indexes = _schema_statements("schema_sale.sql")
        tables, indexes = tables + sale_tables, indexes + sale_indexes
    with psycopg.connect(dsn) as conn:
        conn.execute("SET synchronous_commit = off")
        # bulk INSERT ... SELECT over fresh, unanalysed tables: hash joins, never nested loops
        conn.execute("SET enable_nestloop = off")
        # rows are consistent by construction: skip per-row foreign-key triggers during the load
        conn.execute("SET session_replication_role = replica")
        for statement in tables:
            conn.execute(statement)
        for statement in [
            *BASE_DATA,
            *([IMPLIED_MEMBERSHIPS] if odoo < 19 else []),
            INVOICES,
            PAYMENT_MOVES,
            ANALYZE,
            PAYMENTS,
            LINK_PAYMENT_MOVES,
            ANALYZE,
            INVOICE_LINES,
            PAYMENT_LINES,
            ANALYZE,
            PARTIALS,
            *FULL_RECONCILES,
        ]:
            conn.execute(statement, params)
        if bank_reconciliation:
            for statement in BANK_RECONCILIATION:
                conn.execute(statement, params)
        if sales:
            for statement in [SALE_ORDERS, ANALYZE, SALE_LINES, ANALYZE, *SALE_TOTALS]:
                conn.execute(statement, params)
            _sync_sequences(conn, ("sale_order", "sale_order_line"))
        _sync_sequences(conn, SEQUENCE_TABLES)
        if bank_reconciliation:
            _sync_sequences(conn, ("account_bank_reconciliation", "account_bank_reconciliation_line"))
        for statement in indexes:
            conn.execute(statement)
        for migration in MIGRATIONS[odoo]:
            for statement in _statements(migration):
                conn.execute(statement)
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")


def generate(admin_dsn: str, dsn: str, name: str, **kwargs: Any) -> None:
    """Create (or re-create) database `name` and fill it."""
    create_database(admin_dsn, name)
    populate(dsn, **kwargs)
