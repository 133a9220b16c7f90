"""deploylog: the Odoo deployment execution log as a pytest suite."""
