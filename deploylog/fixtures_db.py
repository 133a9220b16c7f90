"""Database fixtures of the log suite: one read-only snapshot per session, the stored baseline.

Failures to connect or to load the baseline fail the item with one line
(pytrace=False): never a bare traceback, never a PASS.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from deploylog import baseline as baseline_mod
from deploylog import context, db
from deploylog.errors import DeploylogError


@pytest.fixture(scope="session")
def snapshot(spec: Any) -> Iterator[db.Snapshot]:
    """The session's single REPEATABLE READ, READ ONLY transaction on the Odoo database."""
    try:
        snap = db.Snapshot(db.connect(spec))
        identity = snap.identity()
    except DeploylogError as exc:
        pytest.fail(str(exc), pytrace=False)
    except Exception as exc:  # a server that answers but refuses the read (permissions, timeout)
        pytest.fail(f"database error: {db.redact(str(exc)).strip().splitlines()[0]}", pytrace=False)
    if identity.database != spec.database.name:
        snap.close()
        pytest.fail(
            f"connected to database {identity.database!r} but deploy.toml names {spec.database.name!r}: "
            "refusing to check the wrong database",
            pytrace=False,
        )
    yield snap
    snap.close()


@pytest.fixture(scope="session")
def stored_baseline(spec: Any) -> baseline_mod.Baseline:
    """The digest-verified baseline written by phase 0 (no database needed)."""
    try:
        return baseline_mod.load(spec)
    except DeploylogError as exc:
        pytest.fail(str(exc), pytrace=False)


@pytest.fixture(scope="session")
def baseline(stored_baseline: baseline_mod.Baseline, snapshot: db.Snapshot) -> baseline_mod.Baseline:
    """The stored baseline, refused unless it was taken on the database this run is connected to."""
    try:
        baseline_mod.check_identity(stored_baseline, snapshot.identity())
    except DeploylogError as exc:
        pytest.fail(str(exc), pytrace=False)
    return stored_baseline


@pytest.fixture(scope="session")
def phase0_started_at(pytestconfig: pytest.Config) -> Any:
    return context.session_start(pytestconfig)


@pytest.fixture(scope="session")
def recapture_baseline(pytestconfig: pytest.Config) -> bool:
    return bool(pytestconfig.getoption("recapture_baseline"))
