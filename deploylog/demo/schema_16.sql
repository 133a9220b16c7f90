-- Odoo 16.0 from the Odoo 17.0 schema (OpenUpgrade account/17.0.1.2 analysis, read backwards).
-- The columns the log reads are the same in 16 and 17: payments are journal entries
-- (account_payment.move_id NOT NULL), group names jsonb, res_groups_users_rel holds
-- the implied memberships. What differs elsewhere in these tables:

-- account.full.reconcile / name (char): required in 16, deleted in 17
ALTER TABLE account_full_reconcile ADD COLUMN name varchar;
UPDATE account_full_reconcile SET name = 'A' || id;
ALTER TABLE account_full_reconcile ALTER COLUMN name SET NOT NULL;
