"""The embedded default: a throwaway PostgreSQL, an Odoo-17-shaped database, a simulated deployment."""
