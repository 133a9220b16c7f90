"""Read-only connections and the one consistent snapshot every database check reads.

Connections follow libpq (dsn / PG* variables / ~/.pgpass), carry
application_name=deploylog so a DBA sees who is connected, and are read-only
at the session level with statement and lock timeouts: the suite can neither
damage nor block production.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from deploylog.errors import DeploylogError
from deploylog.spec import Spec

APPLICATION_NAME = "deploylog"
# A session that sits idle inside its snapshot is ended by the server itself.
IDLE_IN_TRANSACTION_TIMEOUT_MS = 15 * 60 * 1000


def conninfo_for(dsn: str, dbname: str, statement_timeout_ms: int, lock_timeout_ms: int, connect_timeout_s: int) -> str:
    """The libpq conninfo for a read-only deploylog session.

    The configured database name is used only when neither the dsn nor
    PGDATABASE names one, so libpq's own conventions keep working.
    """
    import os

    try:
        given = conninfo_to_dict(dsn)
    except psycopg.ProgrammingError as exc:
        raise DeploylogError(f"invalid dsn: {exc!s}") from None
    extra: dict[str, Any] = {
        "application_name": APPLICATION_NAME,
        "connect_timeout": str(connect_timeout_s),
        "options": " ".join(
            [
                "-c default_transaction_read_only=on",
                f"-c statement_timeout={int(statement_timeout_ms)}",
                f"-c lock_timeout={int(lock_timeout_ms)}",
                f"-c idle_in_transaction_session_timeout={IDLE_IN_TRANSACTION_TIMEOUT_MS}",
            ]
        ),
    }
    if "dbname" not in given and not os.environ.get("PGDATABASE"):
        extra["dbname"] = dbname
    return make_conninfo(dsn, **extra)


def connect(spec: Spec) -> psycopg.Connection:
    """Open the read-only connection described by the Spec; one-line error when it fails."""
    conninfo = conninfo_for(
        spec.database.dsn,
        spec.database.name,
        spec.database.statement_timeout_ms,
        spec.database.lock_timeout_ms,
        spec.database.connect_timeout_s,
    )
    try:
        conn = psycopg.connect(conninfo)
    except psycopg.OperationalError as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else "connection failed"
        raise DeploylogError(f"database unreachable ({conninfo_safe(conninfo)}): {first}") from None
    conn.read_only = True
    return conn


def conninfo_safe(conninfo: str) -> str:
    """Connection target for evidence: host, port, dbname, user; never a password."""
    parts = conninfo_to_dict(conninfo)
    shown = {k: parts[k] for k in ("host", "port", "dbname", "user") if parts.get(k)}
    return " ".join(f"{k}={v}" for k, v in shown.items()) or "libpq defaults (PG* variables)"


@dataclass(frozen=True)
class Identity:
    """What binds a baseline to one database: the cluster, the database and its oid."""

    system_identifier: str
    database: str
    oid: int
    server_version: str

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)

    def describe(self) -> str:
        return f"database {self.database!r} (oid {self.oid}) on cluster {self.system_identifier}"


Query = str | sql.Composable


class Snapshot:
    """One REPEATABLE READ, READ ONLY transaction shared by every check of a session.

    Figures are memoised by name, so a figure read by several items is queried
    once, and all items see the database at the same instant.
    """

    def __init__(self, conn: psycopg.Connection, shared: str | None = None) -> None:
        self.conn = conn
        conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
        conn.read_only = True
        self._cache: dict[str, Any] = {}
        self.round_trips = 0
        self.log: list[str] = []  # every statement run, in order, for the evidence
        self.shared = shared
        if shared:  # must be the transaction's first statement
            self.rows(sql.SQL("SET TRANSACTION SNAPSHOT {}").format(sql.Literal(shared)))

    def export(self) -> str:
        """An id other sessions can import to see this snapshot (valid while this transaction is open)."""
        return str(self.row("SELECT pg_export_snapshot()")[0])

    def text(self, query: Query) -> str:
        return query if isinstance(query, str) else query.as_string(self.conn)

    def rows(self, query: Query, params: Any = None) -> list[tuple[Any, ...]]:
        self.round_trips += 1
        self.log.append(self.text(query))
        cur = self.conn.execute(query, params)
        return cur.fetchall() if cur.description else []

    def row(self, query: Query, params: Any = None) -> tuple:
        found = self.rows(query, params)
        return found[0] if found else ()

    def memo(self, name: str, compute: Callable[[], Any]) -> Any:
        if name not in self._cache:
            self._cache[name] = compute()
        return self._cache[name]

    def identity(self) -> Identity:
        def read() -> Identity:
            system_id, database, oid, version = self.row(
                """SELECT (SELECT system_identifier::text FROM pg_control_system()),
                          current_database(), d.oid::bigint, current_setting('server_version')
                   FROM pg_database d WHERE d.datname = current_database()"""
            )
            return Identity(str(system_id), database, int(oid), version)

        return self.memo("identity", read)

    def snapshot_time(self) -> Any:
        return self.memo("now", lambda: self.row("SELECT now()")[0])

    def close(self) -> None:
        try:
            self.conn.rollback()  # nothing to keep: the transaction is read-only
        finally:
            self.conn.close()


def open_snapshot(spec: Spec, shared: str | None = None) -> Snapshot:
    """Connect and open the session's snapshot; refuses a connection to another database than deploy.toml names.

    shared: a snapshot id exported by another session (pg_export_snapshot): this
    snapshot then sees exactly what that one sees (pytest-xdist workers).
    """
    snap = Snapshot(connect(spec), shared=shared)
    try:
        identity = snap.identity()
    except BaseException:
        snap.close()
        raise
    if identity.database != spec.database.name:
        snap.close()
        raise DeploylogError(
            f"connected to database {identity.database!r} but deploy.toml names {spec.database.name!r}: "
            "refusing to check the wrong database"
        )
    return snap
