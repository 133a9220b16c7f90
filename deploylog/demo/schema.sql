-- Odoo 17.0 tables the deployment log reads, with the columns, types,
-- constraints and indexes Odoo's ORM creates for them (account + the
-- payment_account_enhanced module), plus the non-stock bank reconciliation
-- tables production gets from another module (see ODOO17.md).
-- Odoo 16, 18 and 19 are this schema plus the changes of schema_16.sql,
-- schema_18.sql and schema_19.sql (ODOO-VERSIONS.md), applied after the data
-- as a migration would.

CREATE TABLE res_currency (
    id serial PRIMARY KEY,
    name varchar NOT NULL UNIQUE,
    symbol varchar NOT NULL,
    rounding numeric,
    decimal_places integer,
    active boolean DEFAULT true,
    create_uid integer, create_date timestamp, write_uid integer, write_date timestamp
);

CREATE TABLE res_partner (
    id serial PRIMARY KEY,
    name varchar,
    company_id integer,
    display_name varchar,
    ref varchar,
    email varchar,
    is_company boolean DEFAULT false,
    active boolean DEFAULT true,
    commercial_partner_id integer,
    create_uid integer, create_date timestamp, write_uid integer, write_date timestamp
);

CREATE TABLE res_company (
    id serial PRIMARY KEY,
    name varchar NOT NULL UNIQUE,
    partner_id integer NOT NULL REFERENCES res_partner(id),
    currency_id integer NOT NULL REFERENCES res_currency(id),
    active boolean DEFAULT true,
    create_uid integer, create_date timestamp, write_uid integer, write_date timestamp
);

CREATE TABLE res_users (
    id serial PRIMARY KEY,
    login varchar NOT NULL UNIQUE,
    password varchar,
    partner_id integer NOT NULL REFERENCES res_partner(id) ON DELETE RESTRICT,
    company_id integer NOT NULL REFERENCES res_company(id),
    active boolean DEFAULT true,
    share boolean,
    create_uid integer, create_date timestamp, write_uid integer, write_date timestamp
);

CREATE TABLE ir_module_category (
    id serial PRIMARY KEY,
    name jsonb NOT NULL,
    parent_id integer REFERENCES ir_module_category(id) ON DELETE SET NULL,
    sequence integer,
    visible boolean,
    exclusive boolean,
    create_uid integer, create_date timestamp, write_uid integer, write_date timestamp
);

CREATE TABLE res_groups (
    id serial PRIMARY KEY,
    name jsonb NOT NULL,
    comment jsonb,
    category_id integer REFERENCES ir_module_category(id) ON DELETE SET NULL,
    color integer,
    share boolean,
    create_uid integer, create_date timestamp, write_uid integer, write_date timestamp
);
CREATE UNIQUE INDEX res_groups_name_uniq ON res_groups (category_id, name);

CREATE TABLE res_groups_users_rel (
    gid integer NOT NULL REFERENCES res_groups(id) ON DELETE CASCADE,
    uid integer NOT NULL REFERENCES res_users(id) ON DELETE CASCADE,
    PRIMARY KEY (gid, uid)
);
CREATE INDEX res_groups_users_rel_uid_gid_idx ON res_groups_users_rel (uid, gid);

CREATE TABLE res_groups_implied_rel (
    gid integer NOT NULL REFERENCES res_groups(id) ON DELETE CASCADE,
    hid integer NOT NULL REFERENCES res_groups(id) ON DELETE CASCADE,
    PRIMARY KEY (gid, hid)
);
CREATE INDEX res_groups_implied_rel_hid_gid_idx ON res_groups_implied_rel (hid, gid);

CREATE TABLE ir_model_data (
    id serial PRIMARY KEY,
    res_id integer,
    name varchar NOT NULL,
    module varchar NOT NULL,
    model varchar NOT NULL,
    noupdate boolean DEFAULT false,
    create_uid integer, create_date timestamp DEFAULT (now() AT TIME ZONE 'UTC'),
    write_uid integer, write_date timestamp DEFAULT (now() AT TIME ZONE 'UTC')
);
CREATE UNIQUE INDEX ir_model_data_module_name_uniq_index ON ir_model_data (module, name);
CREATE INDEX ir_model_data_model_res_id_index ON ir_model_data (model, res_id);

CREATE TABLE res_lang (
    id serial PRIMARY KEY,
    name varchar NOT NULL UNIQUE,
    code varchar NOT NULL UNIQUE,
    iso_code varchar,
    url_code varchar NOT NULL UNIQUE,
    active boolean,
    direction varchar NOT NULL,
    date_format varchar NOT NULL,
    time_format varchar NOT NULL,
    week_start varchar NOT NULL,
    grouping varchar NOT NULL,
    decimal_point varchar NOT NULL,
    thousands_sep varchar,
    create_uid integer, create_date timestamp, write_uid integer, write_date timestamp
);

CREATE TABLE ir_config_parameter (
    id serial PRIMARY KEY,
    key varchar NOT NULL,
    value text NOT NULL,
    create_uid integer, create_date timestamp, write_uid integer, write_date timestamp,
    CONSTRAINT ir_config_parameter_key_uniq UNIQUE (key)
);

CREATE TABLE ir_module_module (
    id serial PRIMARY KEY,
    name varchar NOT NULL,
    category_id integer REFERENCES ir_module_category(id) ON DELETE SET NULL,
    shortdesc jsonb,
    summary jsonb,
    author varchar,
    website varchar,
    latest_version varchar,
    published_version varchar,
    url varchar,
    sequence integer DEFAULT 100,
    auto_install boolean DEFAULT false,
    state varchar(16),
    demo boolean DEFAULT false,
    license varchar(32),
    application boolean DEFAULT false,
    icon varchar,
    create_uid integer, create_date timestamp, write_uid integer, write_date timestamp,
    CONSTRAINT ir_module_module_name_uniq UNIQUE (name)
);
CREATE INDEX ir_module_module_state_index ON ir_module_module (state);

CREATE TABLE account_account (
    id serial PRIMARY KEY,
    name jsonb NOT NULL,
    code varchar(64) NOT NULL,
    account_type varchar NOT NULL,
    reconcile boolean DEFAULT false,
    company_id integer NOT NULL REFERENCES res_company(id),
    currency_id integer REFERENCES res_currency(id),
    deprecated boolean DEFAULT false,
    create_uid integer, create_date timestamp, write_uid integer, write_date timestamp
);

CREATE TABLE account_journal (
    id serial PRIMARY KEY,
    name jsonb NOT NULL,
    code varchar(5) NOT NULL,
    type varchar NOT NULL,
    company_id integer NOT NULL REFERENCES res_company(id),
    currency_id integer REFERENCES res_currency(id),
    default_account_id integer REFERENCES account_account(id),
    active boolean DEFAULT true,
    sequence integer,
    create_uid integer, create_date timestamp, write_uid integer, write_date timestamp
);

CREATE TABLE account_full_reconcile (
    id serial PRIMARY KEY,
    exchange_move_id integer,
    create_uid integer, create_date timestamp, write_uid integer, write_date timestamp
);

CREATE TABLE account_move (
    id serial PRIMARY KEY,
    sequence_prefix varchar,
    sequence_number integer,
    name varchar,
    ref varchar,
    date date NOT NULL,
    state varchar NOT NULL,
    move_type varchar NOT NULL,
    is_storno boolean,
    journal_id integer NOT NULL REFERENCES account_journal(id),
    company_id integer REFERENCES res_company(id),
    currency_id integer NOT NULL REFERENCES res_currency(id),
    partner_id integer REFERENCES res_partner(id) ON DELETE RESTRICT,
    commercial_partner_id integer REFERENCES res_partner(id),
    payment_id integer,
    statement_line_id integer,
    invoice_date date,
    invoice_date_due date,
    invoice_origin varchar,
    amount_untaxed numeric,
    amount_tax numeric,
    amount_total numeric,
    amount_residual numeric,
    amount_untaxed_signed numeric,
    amount_tax_signed numeric,
    amount_total_signed numeric,
    amount_total_in_currency_signed numeric,
    amount_residual_signed numeric,
    payment_state varchar,
    posted_before boolean,
    to_check boolean,
    -- payment_account_enhanced
    approval_state varchar,
    create_uid integer, create_date timestamp, write_uid integer, write_date timestamp
);
CREATE INDEX account_move__date_index ON account_move (date);
CREATE INDEX account_move__state_index ON account_move (state);
CREATE INDEX account_move__journal_id_index ON account_move (journal_id);
CREATE INDEX account_move__payment_id_index ON account_move (payment_id) WHERE payment_id IS NOT NULL;
CREATE INDEX account_move__statement_line_id_index ON account_move (statement_line_id) WHERE statement_line_id IS NOT NULL;
CREATE INDEX account_move_to_check_idx ON account_move (journal_id) WHERE state = 'posted';
CREATE INDEX account_move_payment_idx ON account_move (journal_id, state, payment_state, move_type, date);
CREATE UNIQUE INDEX account_move_unique_name ON account_move (name, journal_id) WHERE (state = 'posted' AND name != '/');
CREATE INDEX account_move_sequence_index3 ON account_move (journal_id, sequence_prefix DESC, sequence_number DESC);

CREATE TABLE account_payment (
    id serial PRIMARY KEY,
    move_id integer NOT NULL REFERENCES account_move(id) ON DELETE CASCADE,
    is_reconciled boolean,
    is_matched boolean,
    is_internal_transfer boolean DEFAULT false,
    payment_method_line_id integer,
    paired_internal_transfer_payment_id integer REFERENCES account_payment(id) ON DELETE SET NULL,
    amount numeric,
    payment_type varchar NOT NULL,
    partner_type varchar NOT NULL,
    payment_reference varchar,
    currency_id integer REFERENCES res_currency(id),
    partner_id integer REFERENCES res_partner(id) ON DELETE RESTRICT,
    outstanding_account_id integer REFERENCES account_account(id),
    destination_account_id integer REFERENCES account_account(id),
    destination_journal_id integer REFERENCES account_journal(id),
    -- payment_account_enhanced
    approval_state varchar,
    voucher_number varchar,
    reviewer_id integer REFERENCES res_users(id) ON DELETE SET NULL,
    reviewer_date timestamp,
    approver_id integer REFERENCES res_users(id) ON DELETE SET NULL,
    approver_date timestamp,
    authorizer_id integer REFERENCES res_users(id) ON DELETE SET NULL,
    authorizer_date timestamp,
    requires_authorization boolean,
    remarks text,
    create_uid integer, create_date timestamp, write_uid integer, write_date timestamp,
    CONSTRAINT account_payment_check_amount_not_negative CHECK (amount >= 0.0)
);
CREATE INDEX account_payment__move_id_index ON account_payment (move_id);
CREATE INDEX account_payment__approval_state_index ON account_payment (approval_state);
ALTER TABLE account_move ADD CONSTRAINT account_move_payment_id_fkey
    FOREIGN KEY (payment_id) REFERENCES account_payment(id) ON DELETE SET NULL;

CREATE TABLE account_bank_statement_line (
    id serial PRIMARY KEY,
    move_id integer NOT NULL REFERENCES account_move(id) ON DELETE CASCADE,
    statement_id integer,
    journal_id integer REFERENCES account_journal(id),
    partner_id integer REFERENCES res_partner(id),
    payment_ref varchar,
    amount numeric,
    is_reconciled boolean,
    create_uid integer, create_date timestamp, write_uid integer, write_date timestamp
);
CREATE INDEX account_bank_statement_line__move_id_index ON account_bank_statement_line (move_id);
ALTER TABLE account_move ADD CONSTRAINT account_move_statement_line_id_fkey
    FOREIGN KEY (statement_line_id) REFERENCES account_bank_statement_line(id) ON DELETE SET NULL;

CREATE TABLE account_move_line (
    id serial PRIMARY KEY,
    move_id integer NOT NULL REFERENCES account_move(id) ON DELETE CASCADE,
    journal_id integer REFERENCES account_journal(id),
    company_id integer REFERENCES res_company(id),
    company_currency_id integer REFERENCES res_currency(id),
    move_name varchar,
    parent_state varchar,
    date date,
    ref varchar,
    sequence integer,
    account_id integer REFERENCES account_account(id) ON DELETE RESTRICT,
    partner_id integer REFERENCES res_partner(id) ON DELETE RESTRICT,
    currency_id integer NOT NULL REFERENCES res_currency(id),
    name varchar,
    display_type varchar NOT NULL,
    debit numeric,
    credit numeric,
    balance numeric,
    amount_currency numeric,
    amount_residual numeric,
    amount_residual_currency numeric,
    reconciled boolean,
    full_reconcile_id integer REFERENCES account_full_reconcile(id) ON DELETE SET NULL,
    matching_number varchar,
    payment_id integer REFERENCES account_payment(id) ON DELETE SET NULL,
    statement_line_id integer REFERENCES account_bank_statement_line(id) ON DELETE SET NULL,
    create_uid integer, create_date timestamp, write_uid integer, write_date timestamp,
    CONSTRAINT account_move_line_check_credit_debit CHECK (credit + debit >= 0 AND credit * debit = 0)
);
CREATE INDEX account_move_line__move_id_index ON account_move_line (move_id);
CREATE INDEX account_move_line__account_id_index ON account_move_line (account_id);
CREATE INDEX account_move_line__partner_id_index ON account_move_line (partner_id) WHERE partner_id IS NOT NULL;
CREATE INDEX account_move_line__full_reconcile_id_index ON account_move_line (full_reconcile_id) WHERE full_reconcile_id IS NOT NULL;
CREATE INDEX account_move_line__matching_number_index ON account_move_line (matching_number) WHERE matching_number IS NOT NULL;
CREATE INDEX account_move_line__payment_id_index ON account_move_line (payment_id) WHERE payment_id IS NOT NULL;
CREATE INDEX account_move_line_partner_id_ref_idx ON account_move_line (partner_id, ref);
CREATE INDEX account_move_line_date_name_id_idx ON account_move_line (date DESC, move_name DESC, id);

CREATE TABLE account_partial_reconcile (
    id serial PRIMARY KEY,
    debit_move_id integer NOT NULL REFERENCES account_move_line(id) ON DELETE CASCADE,
    credit_move_id integer NOT NULL REFERENCES account_move_line(id) ON DELETE CASCADE,
    full_reconcile_id integer REFERENCES account_full_reconcile(id) ON DELETE SET NULL,
    exchange_move_id integer REFERENCES account_move(id) ON DELETE SET NULL,
    debit_currency_id integer REFERENCES res_currency(id),
    credit_currency_id integer REFERENCES res_currency(id),
    amount numeric,
    debit_amount_currency numeric,
    credit_amount_currency numeric,
    company_id integer REFERENCES res_company(id),
    max_date date,
    create_uid integer, create_date timestamp, write_uid integer, write_date timestamp
);
CREATE INDEX account_partial_reconcile__debit_move_id_index ON account_partial_reconcile (debit_move_id);
CREATE INDEX account_partial_reconcile__credit_move_id_index ON account_partial_reconcile (credit_move_id);
CREATE INDEX account_partial_reconcile__full_reconcile_id_index ON account_partial_reconcile (full_reconcile_id);
ALTER TABLE account_full_reconcile ADD CONSTRAINT account_full_reconcile_exchange_move_id_fkey
    FOREIGN KEY (exchange_move_id) REFERENCES account_move(id) ON DELETE SET NULL;
