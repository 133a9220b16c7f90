"""File and command access on the Odoo host, through pytest-testinfra's `host`.

Every host check goes through these helpers so the same code runs locally or
over `--hosts=ssh://...`. On the local backend files are read with Python
directly (exact sizes, seeks, streaming digests); on a remote backend the same
answers come from standard commands (stat, sha256sum, dd) whose arguments are
quoted by testinfra, never pasted into a shell string.
"""

from __future__ import annotations

import datetime as dt
import os
import shlex
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import testinfra

from deploylog.files import sha256_file

_CHUNK = 1 << 20


def local_host() -> Any:
    """The local machine as a testinfra Host (what `host` is without --hosts)."""
    return testinfra.get_host("local://")


def is_local(host: Any) -> bool:
    return host.backend.NAME == "local"


def host_name(host: Any) -> str:
    """The name the log shows for a host: the same id pytest gives the test."""
    return host.backend.get_pytest_id()


def run(host: Any, argv: list[str]) -> Any:
    """Run one command given as an argument list; each argument is shell-quoted by testinfra."""
    template = " ".join(["%s"] * len(argv))
    return host.run(template, *[str(a) for a in argv])


def shown(argv: list[str]) -> str:
    """The command as the log shows it (copy-pasteable)."""
    return " ".join(shlex.quote(str(a)) for a in argv)


@dataclass(frozen=True)
class Stat:
    path: str
    exists: bool
    is_dir: bool = False
    size: int = 0
    mtime: dt.datetime | None = None  # aware UTC

    @property
    def mtime_text(self) -> str:
        return self.mtime.isoformat(timespec="seconds") if self.mtime else "-"


def stat(host: Any, path: str | Path) -> Stat:
    path = str(path)
    if is_local(host):
        try:
            st = os.stat(path)
        except OSError:
            return Stat(path, False)
        mtime = dt.datetime.fromtimestamp(st.st_mtime, dt.UTC)
        return Stat(path, True, os.path.isdir(path), st.st_size, mtime)
    out = run(host, ["stat", "-L", "-c", "%F|%s|%.9Y", path])
    if out.rc != 0:
        return Stat(path, False)
    kind, size, mtime = out.stdout.strip().split("|")
    when = dt.datetime.fromtimestamp(float(mtime), dt.UTC)
    return Stat(path, True, kind == "directory", int(size), when)


def sha256(host: Any, path: str | Path) -> str:
    """Streaming digest: a multi-GB dump is never held in memory."""
    if is_local(host):
        return sha256_file(path)
    out = run(host, ["sha256sum", str(path)])
    if out.rc != 0:
        raise OSError(out.stderr.strip() or f"sha256sum {path} failed")
    return out.stdout.split()[0]


def read_bytes(host: Any, path: str | Path) -> bytes:
    """A whole (small) file: sources, manifests, markers. Raises OSError when unreadable."""
    if is_local(host):
        return Path(path).read_bytes()
    out = run(host, ["cat", str(path)])
    if out.rc != 0:
        raise OSError(out.stderr.strip() or f"cannot read {path}")
    return out.stdout_bytes


def read_range(host: Any, path: str | Path, offset: int, length: int) -> bytes:
    """`length` bytes at `offset`: how a big log is read from its end, block by block."""
    if is_local(host):
        with open(path, "rb") as fh:
            fh.seek(offset)
            return fh.read(length)
    out = run(
        host,
        ["dd", f"if={path}", "bs=65536", f"skip={offset}", f"count={length}", "iflag=skip_bytes,count_bytes", "status=none"],
    )
    if out.rc != 0:
        raise OSError(out.stderr.strip() or f"cannot read {path}")
    return out.stdout_bytes


def listdir(host: Any, path: str | Path) -> list[str]:
    """Entry names of a directory (hidden ones included); [] when it is absent."""
    if is_local(host):
        try:
            return sorted(os.listdir(path))
        except OSError:
            return []
    out = run(host, ["ls", "-A1", str(path)])
    return sorted(line for line in out.stdout.splitlines() if line) if out.rc == 0 else []
