"""A database error in the middle of a run -> one line: what timed out or was refused, and what fixes it.

The snapshot calls `describe` when a figure's SQL fails; the figure's items
then report that line (ERROR), never a psycopg traceback, and never the
"current transaction is aborted" of the items after it.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from deploylog.errors import DeploylogError, PrivilegeError, QueryFailedError

if TYPE_CHECKING:  # imported where used: start-up (pytest --co, the CLI) needs none of it
    import psycopg

# "permission denied for table x" / "... for schema x" / "... for function x"
DENIED = re.compile(r"permission denied for (table|relation|view|sequence|schema|function) (\S+)")
GRANTS = {
    "table": "SELECT ON {}",
    "relation": "SELECT ON {}",
    "view": "SELECT ON {}",
    "sequence": "SELECT ON SEQUENCE {}",
    "schema": "USAGE ON SCHEMA {}",
    "function": "EXECUTE ON FUNCTION {}",
}


def first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def is_connection_lost(exc: BaseException, conn: psycopg.Connection) -> bool:
    """The session is gone (terminated, server restart, network): nothing more runs on it."""
    import psycopg
    from psycopg import errors

    if conn.closed or conn.broken:
        return True
    gone = errors.AdminShutdown | errors.CrashShutdown | errors.IdleInTransactionSessionTimeout | psycopg.InterfaceError
    return isinstance(exc, gone)


def _setting(key: str, value: int | None) -> str:
    shown = f"[database] {key}" + (f" = {value}" if value is not None else "")
    return f"{shown}; raise it with --set database.{key}=N"


def describe(
    exc: psycopg.Error,
    what: str,
    conn: psycopg.Connection,
    role: str = "",
    quoted_role: str = "",
    lock_timeout_ms: int | None = None,
    statement_timeout_ms: int | None = None,
    lock_holders: str = "",
) -> DeploylogError:
    """The one-line error a failed figure reports (PrivilegeError carries the GRANT that fixes it)."""
    from psycopg import errors

    detail = first_line(exc)
    if is_connection_lost(exc, conn):
        return QueryFailedError(
            f"connection lost while reading {what} ({detail}); later figures read a new snapshot", connection_lost=True
        )
    if isinstance(exc, errors.LockNotAvailable):
        held = f": {lock_holders}" if lock_holders else ""
        return QueryFailedError(
            f"lock timeout while reading {what}: a table it reads is locked by another session{held}; "
            f"retry once the lock is released, or {_setting('lock_timeout_ms', lock_timeout_ms)}"
        )
    if isinstance(exc, errors.QueryCanceled):
        if "statement timeout" in detail:
            setting = _setting("statement_timeout_ms", statement_timeout_ms)
            return QueryFailedError(f"statement timeout while reading {what}: the query ran longer than {setting}")
        return QueryFailedError(f"query cancelled while reading {what} ({detail}): a DBA or the server cancelled it")
    if isinstance(exc, errors.InsufficientPrivilege):
        found = DENIED.search(detail)
        who = f"role {role}" if role else "the connecting role"
        if found:
            kind, name = found.groups()
            grant = f"GRANT {GRANTS[kind].format(name)} TO {quoted_role or role or '<role>'};"
            return PrivilegeError(f"{who} may not read {kind} {name} while reading {what} ({detail}): run `{grant}`", grant)
        return PrivilegeError(f"{who} was refused while reading {what}: {detail}")
    state = f"SQLSTATE {exc.sqlstate}: " if exc.sqlstate else ""
    return DeploylogError(f"database error while reading {what}: {state}{detail}")
