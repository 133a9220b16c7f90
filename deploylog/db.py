"""Read-only connections and the one consistent snapshot every database check reads.

Connections follow libpq (dsn / PG* variables / ~/.pgpass), carry
application_name=deploylog so a DBA sees who is connected, and are read-only
at the session level with statement and lock timeouts: the suite can neither
damage nor block production.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar, cast

from deploylog import access, faults
from deploylog.errors import DeploylogError, QueryFailedError
from deploylog.result import CheckResult
from deploylog.spec import Database, Spec

if TYPE_CHECKING:  # imported where used: start-up (pytest --co, the CLI) needs none of it
    import psycopg
    from psycopg import sql

    Query = str | sql.SQL | sql.Composed

APPLICATION_NAME = "deploylog"
# A session that sits idle inside its snapshot is ended by the server itself.
IDLE_IN_TRANSACTION_TIMEOUT_MS = 15 * 60 * 1000


def conninfo_for(dsn: str, dbname: str, statement_timeout_ms: int, lock_timeout_ms: int, connect_timeout_s: int) -> str:
    """The libpq conninfo for a read-only deploylog session.

    The configured database name is used only when neither the dsn nor
    PGDATABASE names one, so libpq's own conventions keep working.
    """
    import os

    import psycopg
    from psycopg.conninfo import conninfo_to_dict, make_conninfo

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
    import psycopg

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
    from psycopg.conninfo import conninfo_to_dict

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


P = ParamSpec("P")
T = TypeVar("T")

# Granted locks of other sessions that block a plain SELECT (it needs ACCESS SHARE) on the given tables.
LOCK_HOLDERS_SQL = """SELECT l.relation::regclass::text, l.mode, l.pid, coalesce(nullif(a.application_name, ''), '?')
FROM pg_locks l LEFT JOIN pg_stat_activity a ON a.pid = l.pid
WHERE l.granted AND l.mode = 'AccessExclusiveLock' AND l.pid <> pg_backend_pid() AND l.relation = ANY(%s::oid[])
ORDER BY 1"""


class Snapshot:
    """One REPEATABLE READ, READ ONLY transaction shared by every check of a session.

    Figures are memoised by name, so a figure read by several items is queried
    once, and all items see the database at the same instant. Each figure runs
    in its own savepoint after the objects it declares (`reads`) are checked:
    a figure that fails (privilege, lock or statement timeout, lost
    connection) fails with one line, is remembered as failed (the other items
    needing it get the same line without re-running it), and leaves the
    snapshot usable: rolling back to a savepoint keeps the REPEATABLE READ
    snapshot. When the connection itself is lost, the next figure opens a new
    snapshot (`renew`), and the items that read it say so (`on_snapshot`).
    """

    def __init__(
        self,
        conn: psycopg.Connection,
        shared: str | None = None,
        renew: Callable[[], psycopg.Connection] | None = None,
        settings: Database | None = None,
    ) -> None:
        self._cache: dict[str, tuple[Any, int]] = {}  # figure -> (value, generation of the snapshot it came from)
        self._failed: dict[str, DeploylogError] = {}
        self._renew = renew
        self._settings = settings
        self._depth = 0  # nesting of memo() calls: a new snapshot is only opened between figures
        self._lost: QueryFailedError | None = None
        self._lost_while = ""
        self._used: list[set[int]] = []  # generations read by the checks being tracked
        self.generation = 0
        self.renewals: dict[int, str] = {}  # generation -> how and when it was opened
        self.round_trips = 0
        self.log: list[str] = []  # every statement run, in order, for the evidence
        self.shared = shared
        self.catalog = access.Catalog(self.rows)
        self._begin(conn, shared)

    def _begin(self, conn: psycopg.Connection, shared: str | None) -> None:
        import psycopg
        from psycopg import sql

        self.conn = conn
        conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
        conn.read_only = True
        # the outer transaction, explicit: every figure's conn.transaction() inside it is a savepoint
        self._transaction = conn.transaction(force_rollback=True)
        self._transaction.__enter__()
        if shared:  # must be the transaction's first statement
            self._execute(sql.SQL("SET TRANSACTION SNAPSHOT {}").format(sql.Literal(shared)))

    def export(self) -> str:
        """An id other sessions can import to see this snapshot (valid while this transaction is open)."""
        return str(self._execute("SELECT pg_export_snapshot()")[0][0])

    def text(self, query: Query) -> str:
        return query if isinstance(query, str) else query.as_string(self.conn)

    def shown(self, query: Query, params: Any = None) -> str:
        """The statement as the server ran it, parameters inlined (for the log's "SQL that ran")."""
        import psycopg

        return psycopg.ClientCursor(self.conn).mogrify(query, params)

    def _as_ran(self, query: Query, params: Any) -> str:
        import psycopg

        if params is None:
            return self.text(query)
        try:
            return self.shown(query, params)
        except (psycopg.Error, TypeError, ValueError):  # a value psycopg binds but cannot inline: the text as written
            return self.text(query)

    def _execute(self, query: Query, params: Any = None) -> list[tuple[Any, ...]]:
        return self._described(query, params)[1]

    def _described(self, query: Query, params: Any = None) -> tuple[list[str], list[tuple[Any, ...]]]:
        self.round_trips += 1
        self.log.append(self._as_ran(query, params))
        cur = self.conn.execute(query, params)
        if cur.description is None:
            return [], []
        return [column.name for column in cur.description], cur.fetchall()

    def table(self, query: Query, params: Any = None) -> tuple[list[str], list[tuple[Any, ...]]]:
        """The column names and rows of one read-only statement (parameters always passed to psycopg, never formatted in).

        Inside a figure (memo) it runs in the figure's savepoint; called on its own
        (a test of one's own: `snapshot.rows(sql, params)`) it runs in its own
        savepoint, and a failure is one line (DeploylogError) that leaves the
        snapshot usable for the other items. Every statement is kept in `log`,
        as the server ran it, for the evidence.
        """
        if self._depth:
            return self._described(query, params)
        return self._guarded(f"statement `{_clip(self.text(query))}`", lambda: self._described(query, params))

    def rows(self, query: Query, params: Any = None) -> list[tuple[Any, ...]]:
        """The rows of one read-only statement ([] for a statement that returns none); see `table`."""
        return self.table(query, params)[1]

    def row(self, query: Query, params: Any = None) -> tuple[Any, ...]:
        found = self.rows(query, params)
        return found[0] if found else ()

    def scalar(self, query: Query, params: Any = None) -> Any:
        """The first column of the first row (None when the statement returns no row)."""
        found = self.row(query, params)
        return found[0] if found else None

    def memo(self, name: str, compute: Callable[[], T], reads: access.Reads | None = None) -> T:
        """The figure `name`, computed once in its own savepoint after checking what it `reads`."""
        if name in self._failed:
            raise self._failed[name]
        if name in self._cache:
            cached, generation = self._cache[name]
            self._note_use(generation)
            return cast(T, cached)
        value = self._guarded(name, compute, reads)
        self._cache[name] = (value, self.generation)
        self._note_use(self.generation)
        return value

    def _guarded(self, name: str, compute: Callable[[], T], reads: access.Reads | None = None) -> T:
        """compute() in its own savepoint after checking what it `reads`; a failure is remembered under `name`."""
        import psycopg

        self._depth += 1
        try:
            if self._depth == 1 and self._lost is not None:
                self._open_new_snapshot()
            if self._lost is not None:  # no new snapshot could be opened
                raise self._lost
            with self.conn.transaction():
                if reads is not None:
                    self.catalog.require(reads)
                value = compute()
        except DeploylogError as exc:
            self._failed[name] = exc
            raise
        except psycopg.Error as exc:
            error = self._lost or self._describe(exc, name, reads)
            self._failed[name] = error
            raise error from None
        finally:
            self._depth -= 1
        return value

    def _describe(self, exc: psycopg.Error, name: str, reads: access.Reads | None) -> DeploylogError:
        import psycopg

        while isinstance(exc.__context__, psycopg.Error):  # the server's error, not the failed rollback after it
            exc = exc.__context__
        conn_lost = faults.is_connection_lost(exc, self.conn)
        holders = "" if conn_lost or not isinstance(exc, psycopg.errors.LockNotAvailable) else self._lock_holders(reads)
        role, quoted_role = ("", "") if conn_lost else self._role()
        error = faults.describe(
            exc,
            name,
            self.conn,
            role=role,
            quoted_role=quoted_role,
            lock_timeout_ms=self._settings.lock_timeout_ms if self._settings else None,
            statement_timeout_ms=self._settings.statement_timeout_ms if self._settings else None,
            lock_holders=holders,
        )
        if isinstance(error, QueryFailedError) and error.connection_lost:
            self._lost = error
            self._lost_while = f"while reading {name} ({faults.first_line(exc)})"
        return error

    def _role(self) -> tuple[str, str]:
        """(role, role as a GRANT names it); ('', '') when even that cannot be read."""
        import psycopg

        try:
            with self.conn.transaction():
                return self.catalog.role, self.catalog.quoted_role
        except psycopg.Error:
            return "", ""

    def _lock_holders(self, reads: access.Reads | None) -> str:
        """Which of the figure's tables another session holds locked, and by whom (best effort)."""
        import psycopg

        if reads is None:
            return ""
        try:
            with self.conn.transaction():
                oids = [r.oid for r in self.catalog.relations(reads.tables).values() if r.oid]
                found = self.rows(LOCK_HOLDERS_SQL, (oids,))
        except psycopg.Error:
            return ""
        return "; ".join(f"{rel} held in {mode} by pid {pid}, application_name {app}" for rel, mode, pid, app in found)

    def _open_new_snapshot(self) -> None:
        """After a lost connection: connect again and read the database from a new snapshot (said in the evidence)."""
        import psycopg

        lost = self._lost
        assert lost is not None
        self.close()
        if self._renew is None:
            return
        try:
            conn = self._renew()
            self._begin(conn, None)
            system_id, database, oid, version = self.row(IDENTITY_SQL)
            at = self.row("SELECT now()")[0]
        except (DeploylogError, psycopg.Error) as exc:
            self._lost = QueryFailedError(f"{lost}; no new connection: {faults.first_line(exc)}", connection_lost=True)
            return
        first = self._cache.get("identity")
        if first is not None and Identity(str(system_id), database, int(oid), version) != first[0]:
            self._lost = QueryFailedError(f"{lost}; the new connection reached another database: refusing to read it", True)
            self.close()
            return
        self._lost = None
        self.generation += 1
        ordinal = {1: "first", 2: "second", 3: "third"}.get(self.generation, f"#{self.generation}")
        self.renewals[self.generation] = (
            f"new snapshot taken at {at.isoformat(timespec='seconds')} after the {ordinal} connection was lost "
            f"{self._lost_while}: this item's figures were read in it"
        )

    def _note_use(self, generation: int) -> None:
        for used in self._used:
            used.add(generation)

    @contextmanager
    def tracking(self) -> Iterator[set[int]]:
        """Collect the generations of the snapshots the figures read inside the block came from."""
        used: set[int] = set()
        self._used.append(used)
        try:
            yield used
        finally:
            self._used.remove(used)

    def renewal_note(self, used: set[int]) -> str:
        return "\n".join(self.renewals[g] for g in sorted(used) if g in self.renewals)

    def identity(self) -> Identity:
        def read() -> Identity:
            system_id, database, oid, version = self.row(IDENTITY_SQL)
            return Identity(str(system_id), database, int(oid), version)

        return self.memo("identity", read, IDENTITY_READS)

    def snapshot_time(self) -> dt.datetime:
        """The transaction's start (now() is fixed for the whole snapshot)."""
        value = self.memo("now", lambda: self.row("SELECT now()")[0])
        assert isinstance(value, dt.datetime)
        return value

    def close(self) -> None:
        """End the transaction and the connection; never raises (a lost connection is already closed)."""
        import psycopg

        with suppress(psycopg.Error, RuntimeError):
            self._transaction.__exit__(None, None, None)  # rolls back: the transaction is read-only
        with suppress(psycopg.Error):
            self.conn.close()


def _clip(text: str, limit: int = 80) -> str:
    """A statement on one line, cut for an error message."""
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


IDENTITY_SQL = """SELECT (SELECT system_identifier::text FROM pg_control_system()),
                          current_database(), d.oid::bigint, current_setting('server_version')
                   FROM pg_database d WHERE d.datname = current_database()"""
IDENTITY_READS = access.Reads(functions=("pg_catalog.pg_control_system()",))


def on_snapshot(check: Callable[P, CheckResult]) -> Callable[P, CheckResult]:
    """A check whose figures came from a snapshot opened after a lost connection says so in its evidence."""

    @functools.wraps(check)
    def run(*args: P.args, **kwargs: P.kwargs) -> CheckResult:
        snap = next((a for a in (*args, *kwargs.values()) if isinstance(a, Snapshot)), None)
        if snap is None:
            return check(*args, **kwargs)
        with snap.tracking() as used:
            result = check(*args, **kwargs)
        note = snap.renewal_note(used)
        return result.replace(evidence=f"{result.evidence}\n\n{note}".strip()) if note else result

    return run


def open_snapshot(spec: Spec, shared: str | None = None) -> Snapshot:
    """Connect and open the session's snapshot; refuses a connection to another database than deploy.toml names.

    shared: a snapshot id exported by another session (pg_export_snapshot): this
    snapshot then sees exactly what that one sees (pytest-xdist workers).
    """
    snap = Snapshot(connect(spec), shared=shared, renew=lambda: connect(spec), settings=spec.database)
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
