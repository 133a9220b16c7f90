"""Self-test fixtures: a real PostgreSQL, a generated Odoo-17-shaped database per test, and a
deployment workdir that runs the real log suite in a subprocess."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg import sql

from deploylog.demo import generate
from deploylog.demo.cluster import Cluster
from selftests.support.db_roles import Reader, reader_role
from selftests.support.suite import Deployment

TEMPLATE = "odoo17_template"
_numbers = itertools.count(1)


class OdooDb:
    """One throwaway clone of the generated database; `execute` runs as superuser (fault injection)."""

    def __init__(self, cluster: Cluster, name: str) -> None:
        self.cluster = cluster
        self.name = name
        self.dsn = cluster.dsn(name)

    def execute(self, query: Any, params: Any = None) -> list[tuple]:
        with psycopg.connect(self.dsn, autocommit=True) as conn:
            cur = conn.execute(query, params)
            return cur.fetchall() if cur.description else []

    def scalar(self, query: Any, params: Any = None) -> Any:
        return self.execute(query, params)[0][0]


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[Cluster]:
    # not under pytest's basetemp: that is pruned by other pytest sessions on the machine
    cluster = Cluster().start()
    yield cluster
    cluster.destroy()


@pytest.fixture(scope="session")
def odoo_template(pg_cluster: Cluster) -> str:
    generate.generate(pg_cluster.dsn(), pg_cluster.dsn(TEMPLATE), TEMPLATE, seed=17)
    return TEMPLATE


def clone(cluster: Cluster, template: str, name: str) -> OdooDb:
    with psycopg.connect(cluster.dsn(), autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        conn.execute(sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(sql.Identifier(name), sql.Identifier(template)))
    return OdooDb(cluster, name)


@pytest.fixture
def odoo_db(pg_cluster: Cluster, odoo_template: str) -> Iterator[OdooDb]:
    db = clone(pg_cluster, odoo_template, f"osusproperties_{next(_numbers)}")
    yield db
    with psycopg.connect(pg_cluster.dsn(), autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(db.name)))


@pytest.fixture
def deployment(tmp_path: Path, odoo_db: OdooDb) -> Deployment:
    return Deployment(tmp_path, odoo_db.name, odoo_db.dsn)


@pytest.fixture
def reader(odoo_db: OdooDb, pg_cluster: Cluster) -> Iterator[Reader]:
    """A real login role with SELECT on every table of the Odoo database, nothing more (privilege tests)."""
    with reader_role(odoo_db, pg_cluster) as role:
        yield role
