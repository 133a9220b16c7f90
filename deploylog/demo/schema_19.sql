-- Odoo 19.0 from the Odoo 18.0 schema and data (OpenUpgrade base/19.0.1.3 and account/19.0.1.4
-- analyses; ODOO-VERSIONS.md). Payments keep Odoo 18's layout.

-- res.groups: category_id and color removed; a group belongs to a privilege (which has the category)
CREATE TABLE res_groups_privilege (
    id serial PRIMARY KEY,
    name jsonb NOT NULL,
    sequence integer,
    category_id integer REFERENCES ir_module_category(id) ON DELETE SET NULL,
    description text,
    placeholder varchar,
    create_uid integer, create_date timestamp, write_uid integer, write_date timestamp
);
CREATE INDEX res_groups_privilege__category_id_index ON res_groups_privilege (category_id);
-- one privilege per application category (user types have none)
INSERT INTO res_groups_privilege (id, name, sequence, category_id, create_date)
    SELECT c.id, c.name, c.sequence, c.id, c.create_date FROM ir_module_category c
    WHERE c.visible AND EXISTS (SELECT 1 FROM res_groups g WHERE g.category_id = c.id);
SELECT setval(pg_get_serial_sequence('res_groups_privilege', 'id'), (SELECT coalesce(max(id), 0) + 1 FROM res_groups_privilege), false);
INSERT INTO ir_model_data (module, name, model, res_id, noupdate)
    SELECT 'payment_account_enhanced', 'res_groups_privilege_payment', 'res.groups.privilege', p.id, false
    FROM res_groups_privilege p JOIN ir_model_data d ON d.res_id = p.category_id AND d.model = 'ir.module.category'
    WHERE d.name = 'module_category_payment_management';
ALTER TABLE res_groups
    ADD COLUMN privilege_id integer REFERENCES res_groups_privilege(id) ON DELETE SET NULL,
    ADD COLUMN sequence integer;
UPDATE res_groups g SET privilege_id = p.id, sequence = g.id FROM res_groups_privilege p WHERE p.category_id = g.category_id;
DROP INDEX res_groups_name_uniq;
ALTER TABLE res_groups DROP COLUMN category_id, DROP COLUMN color;
ALTER TABLE res_groups ADD CONSTRAINT res_groups_name_uniq UNIQUE (privilege_id, name);
CREATE INDEX res_groups__privilege_id_index ON res_groups (privilege_id);

-- account: columns no longer stored
ALTER TABLE account_move DROP COLUMN is_storno;
ALTER TABLE account_account DROP COLUMN deprecated;
ALTER TABLE account_full_reconcile DROP COLUMN exchange_move_id;
