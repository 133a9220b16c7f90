"""The database side of a simulated deployment: what `odoo -u payment_account_enhanced` leaves behind."""

from __future__ import annotations

import psycopg

from deploylog.demo.generate import MODULE


def upgrade_module(dsn: str, version: str, module: str = MODULE) -> None:
    """Record the module as upgraded, as Odoo's module loader does after a successful -u."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(
            """UPDATE ir_module_module SET latest_version = %s, state = 'installed',
                      write_date = now() AT TIME ZONE 'UTC' WHERE name = %s""",
            (version, module),
        )
