"""The self-tests' PostgreSQL, in pytest-postgresql's manner: one process (the server the session
starts, `deploylog.demo.cluster.Cluster`) and a janitor that creates every database a test needs
from the generated template and drops it afterwards, whatever the test did to it."""

from __future__ import annotations

from types import TracebackType
from typing import Any

import psycopg
from psycopg import sql

from deploylog.demo.cluster import Cluster


class OdooDb:
    """One throwaway Odoo database; `execute` runs as superuser (fault injection)."""

    def __init__(self, cluster: Cluster, name: str) -> None:
        self.cluster = cluster
        self.name = name
        self.dsn = cluster.dsn(name)

    def execute(self, query: Any, params: Any = None) -> list[tuple[Any, ...]]:
        with psycopg.connect(self.dsn, autocommit=True) as conn:
            cur = conn.execute(query, params)
            return cur.fetchall() if cur.description else []

    def scalar(self, query: Any, params: Any = None) -> Any:
        return self.execute(query, params)[0][0]


class Janitor:
    """`with Janitor(cluster, name, template) as db:` a fresh copy of `template` named `name`, dropped at exit."""

    def __init__(self, cluster: Cluster, name: str, template: str) -> None:
        self.cluster = cluster
        self.name = name
        self.template = template

    def _admin(self, statement: sql.Composable) -> None:
        with psycopg.connect(self.cluster.dsn(), autocommit=True) as conn:
            conn.execute(statement)

    def drop(self) -> None:
        self._admin(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(self.name)))

    def __enter__(self) -> OdooDb:
        self.drop()  # left over by an interrupted earlier session
        self._admin(sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(sql.Identifier(self.name), sql.Identifier(self.template)))
        return OdooDb(self.cluster, self.name)

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.drop()
