"""The database side of a simulated deployment: what `odoo -u payment_account_enhanced` leaves behind."""

from __future__ import annotations

from typing import TYPE_CHECKING

from deploylog.demo.generate import MODULE

if TYPE_CHECKING:  # imported where used: start-up (pytest --co, the CLI) needs none of it
    pass


def upgrade_module(dsn: str, version: str, module: str = MODULE) -> None:
    """Record the module as upgraded, as Odoo's module loader does after a successful -u."""
    import psycopg

    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(
            """UPDATE ir_module_module SET latest_version = %s, state = 'installed',
                      write_date = now() AT TIME ZONE 'UTC' WHERE name = %s""",
            (version, module),
        )


def record_module(dsn: str, module: str, state: str, version: str | None) -> None:
    """A module's row as Odoo leaves it (installed, marked to upgrade, ...), added when the database has none."""
    import psycopg

    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(
            """INSERT INTO ir_module_module (name, state, latest_version, create_date, write_date)
               VALUES (%(name)s, %(state)s, %(version)s, now() AT TIME ZONE 'UTC', now() AT TIME ZONE 'UTC')
               ON CONFLICT (name) DO UPDATE SET state = EXCLUDED.state, latest_version = EXCLUDED.latest_version,
                                                write_date = EXCLUDED.write_date""",
            {"name": module, "state": state, "version": version},
        )
