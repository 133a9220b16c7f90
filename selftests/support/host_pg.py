"""PostgreSQL for the host self-tests: the shared `pg_cluster` fixture when the
self-test conftest provides it, else a cluster of our own (same binaries)."""

from __future__ import annotations

import pytest

from deploylog.demo import cluster, generate


def cluster_for(request: pytest.FixtureRequest):
    """(cluster, stop callback or None)."""
    try:
        return request.getfixturevalue("pg_cluster"), None
    except pytest.FixtureLookupError:
        own = cluster.Cluster().start()
        return own, own.destroy


def odoo_database(pg, name: str) -> str:
    """Generate a small Odoo-17-shaped database; returns its DSN."""
    generate.generate(pg.dsn("postgres"), pg.dsn(name), name)
    return pg.dsn(name)
