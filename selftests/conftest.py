"""Self-test fixtures: the one PostgreSQL server of the session (`pg_cluster`), the generated
Odoo-17-shaped template, a fresh copy of it per test through the janitor (`odoo_db`), and a
deployment workdir that runs the real log suite in a subprocess. Odoo 16, 18 and 19 templates are
generated on first use (`odoo_templates`), copied per test by `odoo_db_of(version)`."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from deploylog.demo import generate
from deploylog.demo.cluster import Cluster
from selftests.support.db_roles import Reader, reader_role
from selftests.support.postgres import Janitor, OdooDb
from selftests.support.suite import Deployment

TEMPLATE = "odoo17_template"
_numbers = itertools.count(1)


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[Cluster]:
    # not under pytest's basetemp: that is pruned by other pytest sessions on the machine
    cluster = Cluster().start()
    yield cluster
    cluster.destroy()


@pytest.fixture(scope="session")
def odoo_templates(pg_cluster: Cluster) -> Callable[[int], str]:
    """The generated template of an Odoo version (16-19), generated once per session on first use."""
    made: dict[int, str] = {}

    def template(version: int) -> str:
        if version not in made:
            name = TEMPLATE if version == 17 else f"odoo{version}_template"
            generate.generate(pg_cluster.dsn(), pg_cluster.dsn(name), name, seed=17, odoo=version)
            made[version] = name
        return made[version]

    return template


@pytest.fixture(scope="session")
def odoo_template(odoo_templates: Callable[[int], str]) -> str:
    return odoo_templates(17)


@pytest.fixture
def odoo_db(pg_cluster: Cluster, odoo_template: str) -> Iterator[OdooDb]:
    """A fresh copy of the generated Odoo 17 database for one test, dropped after it."""
    with Janitor(pg_cluster, f"osusproperties_{next(_numbers)}", odoo_template) as db:
        yield db


@pytest.fixture
def odoo_db_factory(pg_cluster: Cluster, odoo_template: str) -> Iterator[Callable[[str], OdooDb]]:
    """More copies under chosen names (another database, a staging copy), all dropped after the test."""
    janitors: list[Janitor] = []

    def make(name: str) -> OdooDb:
        janitor = Janitor(pg_cluster, name, odoo_template)
        janitors.append(janitor)
        return janitor.__enter__()

    yield make
    for janitor in janitors:
        janitor.drop()


@pytest.fixture
def odoo_db_of(pg_cluster: Cluster, odoo_templates: Callable[[int], str]) -> Iterator[Callable[[int], OdooDb]]:
    """A fresh copy of the generated database of an Odoo version, dropped after the test."""
    janitors: list[Janitor] = []

    def make(version: int) -> OdooDb:
        janitor = Janitor(pg_cluster, f"osus{version}_{next(_numbers)}", odoo_templates(version))
        janitors.append(janitor)
        return janitor.__enter__()

    yield make
    for janitor in janitors:
        janitor.drop()


@pytest.fixture
def deployment(tmp_path: Path, odoo_db: OdooDb) -> Deployment:
    return Deployment(tmp_path, odoo_db.name, odoo_db.dsn)


@pytest.fixture
def reader(odoo_db: OdooDb, pg_cluster: Cluster) -> Iterator[Reader]:
    """A real login role with SELECT on every table of the Odoo database, nothing more (privilege tests)."""
    with reader_role(odoo_db, pg_cluster) as role:
        yield role
