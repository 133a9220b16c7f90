-- The bank reconciliation tables production gets from a module that is not
-- part of stock Odoo 17 (ODOO17.md). Loaded separately so a database can be
-- generated without them, as on a stock Odoo.

CREATE TABLE account_bank_reconciliation (
    id serial PRIMARY KEY,
    name varchar NOT NULL,
    journal_id integer REFERENCES account_journal(id),
    date date,
    state varchar,
    create_uid integer, create_date timestamp, write_uid integer, write_date timestamp
);

CREATE TABLE account_bank_reconciliation_line (
    id serial PRIMARY KEY,
    reconciliation_id integer REFERENCES account_bank_reconciliation(id) ON DELETE CASCADE,
    move_id integer REFERENCES account_move(id) ON DELETE SET NULL,
    amount numeric,
    create_uid integer, create_date timestamp, write_uid integer, write_date timestamp
);
CREATE INDEX account_bank_reconciliation_line__move_id_index ON account_bank_reconciliation_line (move_id);
CREATE INDEX account_bank_reconciliation_line__reconciliation_id_index ON account_bank_reconciliation_line (reconciliation_id);
