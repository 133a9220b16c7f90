"""A real login role of the test cluster for the privilege tests: SELECT on the Odoo tables, nothing more."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

from psycopg import sql

from deploylog.demo.cluster import Cluster

if TYPE_CHECKING:
    from selftests.support.postgres import OdooDb

_roles = itertools.count(1)


@dataclass
class Reader:
    name: str
    dsn: str
    db: OdooDb

    def as_owner(self, statement: str) -> None:
        """Run `statement` as the superuser, {role} = this role: 'REVOKE SELECT ON x FROM {role}'."""
        self.db.execute(sql.SQL(statement).format(role=sql.Identifier(self.name)))

    def grant(self, table: str) -> str:
        return f"GRANT SELECT ON public.{table} TO {self.name};"


@contextmanager
def reader_role(odoo_db: OdooDb, pg_cluster: Cluster) -> Iterator[Reader]:
    """A login role with SELECT on every table of the Odoo database, nothing more; dropped afterwards."""
    name = f"deploylog_reader_{next(_roles)}"
    role = sql.Identifier(name)
    odoo_db.execute(sql.SQL("CREATE ROLE {} LOGIN").format(role))
    odoo_db.execute(sql.SQL("GRANT SELECT ON ALL TABLES IN SCHEMA public TO {}").format(role))
    yield Reader(name, pg_cluster.dsn(odoo_db.name, user=name), odoo_db)
    odoo_db.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = %s", (name,))
    odoo_db.execute(sql.SQL("DROP OWNED BY {}").format(role))
    odoo_db.execute(sql.SQL("DROP ROLE {}").format(role))
