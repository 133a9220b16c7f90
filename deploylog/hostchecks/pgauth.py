"""A libpq password kept off the command line of pg_dump / pg_restore.

Any local user can read another process's argv (`ps`, /proc/<pid>/cmdline),
so a `password=` in the conninfo passed as `--dbname=...` leaks it. The
password is taken out of the conninfo; for a command run on this machine it
goes into a passfile (mode 0600, in a private temporary directory, removed
afterwards) that the child finds through PGPASSFILE in its environment. On a
remote host nothing of it is sent: the host's own ~/.pgpass (or its
PGPASSFILE) must hold it, and the evidence says so.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from deploylog.errors import DeploylogError

if TYPE_CHECKING:  # imported where used: start-up (pytest --co, the CLI) needs none of it
    pass


@dataclass(frozen=True)
class Credentials:
    """What a child process is given instead of the password in its argv."""

    conninfo: str  # without password
    env: dict[str, str] = field(default_factory=dict)  # PGPASSFILE for the child, when a password was given
    note: str = ""  # how the password reaches the child, for the evidence


def split_password(conninfo: str) -> tuple[str, str | None]:
    """(conninfo without its password, the password or None)."""
    from psycopg.conninfo import conninfo_to_dict, make_conninfo

    try:
        params = conninfo_to_dict(conninfo)
    except Exception as exc:  # psycopg.ProgrammingError: malformed conninfo
        raise DeploylogError(f"invalid dsn: {exc!s}") from None
    password = params.pop("password", None)
    return make_conninfo("", **params), None if password is None else str(password)


def _passfile_line(password: str) -> str:
    # one wildcard entry: the file is this child's alone; ':' and '\' are escaped as libpq reads them
    escaped = password.replace("\\", "\\\\").replace(":", "\\:")
    return f"*:*:*:*:{escaped}\n"


@contextmanager
def credentials(conninfo: str, local: bool) -> Iterator[Credentials]:
    """The conninfo without its password, and the environment that gives the child the password."""
    bare, password = split_password(conninfo)
    if password is None:
        yield Credentials(bare)
        return
    if not local:
        yield Credentials(bare, note="password not sent to the remote host: its ~/.pgpass (or PGPASSFILE) supplies it")
        return
    private = tempfile.mkdtemp(prefix="deploylog-pgpass-")  # mode 0700: only this user can enter it
    try:
        path = os.path.join(private, "pgpass")
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(_passfile_line(password))
        yield Credentials(bare, {"PGPASSFILE": path}, note="password passed through a 0600 passfile (PGPASSFILE), not argv")
    finally:
        shutil.rmtree(private, ignore_errors=True)
