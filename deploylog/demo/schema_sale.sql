-- Odoo 17.0's sale tables (module `sale` 17.0.1.2: states draft, sent, sale, cancel; a locked
-- order is `locked`, the 16.0 state 'done' is gone), as its ORM creates them, plus the columns the
-- sale_order_approval module (examples/sale-approval) adds to sale_order. Loaded only when a
-- database is generated with sales (generate.populate(sales=True)), after schema.sql.
-- Types follow the field definitions: Char/Selection varchar, Text/Html text, Many2one integer,
-- Monetary and Float with digits numeric, Float without digits double precision, Datetime
-- timestamp; NOT NULL exactly where the field is required. The product, pricelist, team,
-- fiscal position and UTM tables are not generated, so their columns carry no foreign key.

CREATE TABLE sale_order (
    id serial PRIMARY KEY,
    access_token varchar,
    name varchar NOT NULL,
    company_id integer NOT NULL REFERENCES res_company(id) ON DELETE RESTRICT,
    partner_id integer NOT NULL REFERENCES res_partner(id) ON DELETE RESTRICT,
    state varchar,
    locked boolean,
    client_order_ref varchar,
    commitment_date timestamp,
    date_order timestamp NOT NULL,
    origin varchar,
    reference varchar,
    require_signature boolean,
    require_payment boolean,
    prepayment_percent double precision,
    signed_by varchar,
    signed_on timestamp,
    validity_date date,
    note text,
    partner_invoice_id integer NOT NULL REFERENCES res_partner(id) ON DELETE RESTRICT,
    partner_shipping_id integer NOT NULL REFERENCES res_partner(id) ON DELETE RESTRICT,
    fiscal_position_id integer,
    payment_term_id integer,
    pricelist_id integer,
    currency_id integer REFERENCES res_currency(id) ON DELETE RESTRICT,
    currency_rate numeric,
    user_id integer REFERENCES res_users(id) ON DELETE SET NULL,
    team_id integer,
    amount_untaxed numeric,
    amount_tax numeric,
    amount_total numeric,
    invoice_status varchar,
    campaign_id integer,
    medium_id integer,
    source_id integer,
    -- sale_order_approval
    approval_state varchar,
    approved_by_id integer REFERENCES res_users(id) ON DELETE SET NULL,
    approval_date timestamp,
    create_uid integer, create_date timestamp, write_uid integer, write_date timestamp,
    CONSTRAINT sale_order_date_order_conditional_required CHECK ((state = 'sale' AND date_order IS NOT NULL) OR state != 'sale')
);
CREATE INDEX sale_order__company_id_index ON sale_order (company_id);
CREATE INDEX sale_order__partner_id_index ON sale_order (partner_id);
CREATE INDEX sale_order__state_index ON sale_order (state);
CREATE INDEX sale_order__create_date_index ON sale_order (create_date);
CREATE INDEX sale_order__user_id_index ON sale_order (user_id);
CREATE INDEX sale_order__partner_invoice_id_index ON sale_order (partner_invoice_id) WHERE partner_invoice_id IS NOT NULL;
CREATE INDEX sale_order__partner_shipping_id_index ON sale_order (partner_shipping_id) WHERE partner_shipping_id IS NOT NULL;
CREATE INDEX sale_order_date_order_id_idx ON sale_order (date_order DESC, id DESC);

CREATE TABLE sale_order_line (
    id serial PRIMARY KEY,
    order_id integer NOT NULL REFERENCES sale_order(id) ON DELETE CASCADE,
    sequence integer,
    company_id integer REFERENCES res_company(id) ON DELETE SET NULL,
    currency_id integer REFERENCES res_currency(id) ON DELETE SET NULL,
    order_partner_id integer REFERENCES res_partner(id) ON DELETE SET NULL,
    salesman_id integer REFERENCES res_users(id) ON DELETE SET NULL,
    state varchar,
    display_type varchar,
    is_downpayment boolean,
    is_expense boolean,
    product_id integer,
    product_uom_qty numeric NOT NULL,
    product_uom integer,
    product_packaging_id integer,
    product_packaging_qty double precision,
    name text NOT NULL,
    price_unit numeric NOT NULL,
    discount numeric,
    price_subtotal numeric,
    price_tax double precision,
    price_total numeric,
    price_reduce_taxexcl numeric,
    price_reduce_taxinc numeric,
    customer_lead double precision NOT NULL,
    qty_delivered_method varchar,
    qty_delivered numeric,
    qty_invoiced numeric,
    qty_to_invoice numeric,
    invoice_status varchar,
    untaxed_amount_invoiced numeric,
    untaxed_amount_to_invoice numeric,
    analytic_distribution jsonb,
    create_uid integer, create_date timestamp, write_uid integer, write_date timestamp,
    CONSTRAINT sale_order_line_accountable_required_fields
        CHECK (display_type IS NOT NULL OR is_downpayment OR (product_id IS NOT NULL AND product_uom IS NOT NULL)),
    CONSTRAINT sale_order_line_non_accountable_null_fields
        CHECK (display_type IS NULL OR (product_id IS NULL AND price_unit = 0 AND product_uom_qty = 0
                                        AND product_uom IS NULL AND customer_lead = 0))
);
CREATE INDEX sale_order_line__order_id_index ON sale_order_line (order_id);
CREATE INDEX sale_order_line__company_id_index ON sale_order_line (company_id);
CREATE INDEX sale_order_line__order_partner_id_index ON sale_order_line (order_partner_id);
CREATE INDEX sale_order_line__product_id_index ON sale_order_line (product_id) WHERE product_id IS NOT NULL;
