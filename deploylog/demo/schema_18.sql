-- Odoo 18.0 from the Odoo 17.0 schema and data, as the 17 -> 18 migration leaves them
-- (OpenUpgrade account/18.0.1.3 analysis; ODOO-VERSIONS.md).

-- account.payment no longer _inherits account.move: name, date, state, memo, journal_id and
-- company_id become its own columns; move_id is optional.
ALTER TABLE account_payment
    ADD COLUMN name varchar,
    ADD COLUMN date date,
    ADD COLUMN state varchar,
    ADD COLUMN memo varchar,
    ADD COLUMN journal_id integer REFERENCES account_journal(id),
    ADD COLUMN company_id integer REFERENCES res_company(id),
    ADD COLUMN is_sent boolean;
-- the migration maps the entry's posted -> in_process, payment_state paid -> paid, cancel -> canceled
UPDATE account_payment p SET name = m.name, date = m.date, memo = m.ref, journal_id = m.journal_id, company_id = m.company_id,
    state = CASE WHEN m.state = 'draft' THEN 'draft' WHEN m.state = 'cancel' THEN 'canceled'
                 WHEN m.payment_state = 'paid' THEN 'paid' ELSE 'in_process' END
FROM account_move m WHERE m.id = p.move_id;
ALTER TABLE account_payment
    ALTER COLUMN state SET NOT NULL,
    ALTER COLUMN state SET DEFAULT 'draft',
    ALTER COLUMN date SET NOT NULL,
    ALTER COLUMN journal_id SET NOT NULL,
    ALTER COLUMN company_id SET NOT NULL,
    ALTER COLUMN move_id DROP NOT NULL,
    DROP CONSTRAINT account_payment_move_id_fkey,
    ADD CONSTRAINT account_payment_move_id_fkey FOREIGN KEY (move_id) REFERENCES account_move(id) ON DELETE SET NULL,
    DROP COLUMN is_internal_transfer,
    DROP COLUMN destination_journal_id;
CREATE INDEX account_payment_journal_id_company_id_idx ON account_payment (journal_id, company_id);
CREATE INDEX account_payment_unmatched_idx ON account_payment (journal_id, company_id) WHERE is_matched IS NOT TRUE;

-- A journal entry is created only where the journal has an outstanding account: the cash journal
-- has none here, so its open payments have no entry (their lines go with it).
CREATE TEMPORARY TABLE entryless AS
    SELECT id AS payment_id, move_id FROM account_payment WHERE journal_id = 4 AND NOT is_reconciled;
UPDATE account_payment p SET move_id = NULL, outstanding_account_id = NULL FROM entryless e WHERE e.payment_id = p.id;
DELETE FROM account_move_line l USING entryless e WHERE l.move_id = e.move_id;
DELETE FROM account_move m USING entryless e WHERE m.id = e.move_id;
DROP TABLE entryless;

-- the invoices a payment pays (new link table)
CREATE TABLE account_move__account_payment (
    payment_id integer NOT NULL REFERENCES account_payment(id) ON DELETE CASCADE,
    invoice_id integer NOT NULL REFERENCES account_move(id) ON DELETE CASCADE,
    PRIMARY KEY (payment_id, invoice_id)
);
CREATE INDEX account_move__account_payment_invoice_id_payment_id_idx ON account_move__account_payment (invoice_id, payment_id);
INSERT INTO account_move__account_payment (payment_id, invoice_id)
    SELECT DISTINCT p.id, l.move_id FROM account_payment p
    JOIN account_partial_reconcile pr ON pr.id = p.id
    JOIN account_move_line l ON l.id IN (pr.debit_move_id, pr.credit_move_id) AND l.move_id IS DISTINCT FROM p.move_id;

-- account.move: payment_id -> origin_payment_id; to_check -> checked; payment_state gains 'blocked'
ALTER TABLE account_move ADD COLUMN origin_payment_id integer REFERENCES account_payment(id) ON DELETE SET NULL;
UPDATE account_move SET origin_payment_id = payment_id WHERE payment_id IS NOT NULL;
ALTER TABLE account_move DROP COLUMN payment_id;
CREATE INDEX account_move__origin_payment_id_index ON account_move (origin_payment_id) WHERE origin_payment_id IS NOT NULL;
ALTER TABLE account_move ADD COLUMN checked boolean;
UPDATE account_move SET checked = NOT coalesce(to_check, false);
ALTER TABLE account_move DROP COLUMN to_check;
UPDATE account_move SET payment_state = 'blocked'
    WHERE move_type IN ('in_invoice', 'in_refund') AND state = 'posted' AND payment_state = 'not_paid' AND id % 40 = 0;
