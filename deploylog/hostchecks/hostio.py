"""File and command access on the Odoo host, through pytest-testinfra's `host`.

One path, as in testinfra itself: every helper is one command run through
`host.run` (`stat`, `find`, `cat`, `sha256sum`, `dd`), whose arguments
testinfra quotes - never pasted into a shell string - so the same code runs on
the local machine and over `--hosts=ssh://...`. Only the streamed reads of big
files (the digest of a multi-GB dump, the blocks of a big log) keep a local
fast path: there Python reads the file directly instead of piping it through
a subprocess.
"""

from __future__ import annotations

import datetime as dt
import shlex
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from deploylog.files import sha256_file

if TYPE_CHECKING:  # imported where used: start-up (pytest --co, the CLI) needs none of it
    from testinfra.backend.base import CommandResult
    from testinfra.host import Host


def local_host() -> Host:
    """The local machine as a testinfra Host (what the `host` fixture is without --hosts)."""
    import testinfra

    return testinfra.get_host("local://")


def is_local(host: Host) -> bool:
    """True when the host's files are this process's files (the fast paths, a local passfile)."""
    return str(host.backend.NAME) == "local"


def host_name(host: Host) -> str:
    """The name the log shows for a host: the same id pytest gives the test."""
    return str(host.backend.get_pytest_id())


def run(host: Host, argv: Sequence[str | Path], env: Mapping[str, str] | None = None) -> CommandResult:
    """Run one command given as an argument list; each argument is shell-quoted by testinfra.

    env: variables set for this command only (through `env`, so a value is an
    argument of `env`, never shell text).
    """
    words = [str(a) for a in argv]
    if env:
        words = ["env", *[f"{k}={v}" for k, v in env.items()], *words]
    template = " ".join(["%s"] * len(words))
    return host.run(template, *words)


def shown(argv: Sequence[str | Path]) -> str:
    """The command as the log shows it (copy-pasteable)."""
    return " ".join(shlex.quote(str(a)) for a in argv)


def last_error(out: CommandResult, fallback: str) -> str:
    """The last line a failed command wrote to stderr (tools put the real cause last)."""
    lines = out.stderr.strip().splitlines()
    return lines[-1] if lines else fallback


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


def stat(host: Host, path: str | Path) -> Stat:
    """Kind, size and mtime (ns precision) of a path, following links; exists=False when absent."""
    path = str(path)
    out = run(host, ["stat", "-L", "-c", "%F|%s|%.9Y", path])
    if out.rc != 0:
        return Stat(path, False)
    kind, size, mtime = out.stdout.strip().split("|")
    when = dt.datetime.fromtimestamp(float(mtime), dt.UTC)
    return Stat(path, True, kind == "directory", int(size), when)


def sha256(host: Host, path: str | Path) -> str:
    """Streaming digest: a multi-GB dump is never held in memory (locally: read by Python)."""
    if is_local(host):
        return sha256_file(path)
    out = run(host, ["sha256sum", str(path)])
    if out.rc != 0:
        raise OSError(last_error(out, f"sha256sum {path} failed"))
    return out.stdout.split()[0]


def read_bytes(host: Host, path: str | Path) -> bytes:
    """A whole (small) file: sources, manifests, markers, /proc entries. Raises OSError when unreadable."""
    out = run(host, ["cat", str(path)])
    if out.rc != 0:
        raise OSError(last_error(out, f"cannot read {path}"))
    return out.stdout_bytes


def read_range(host: Host, path: str | Path, offset: int, length: int) -> bytes:
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
        raise OSError(last_error(out, f"cannot read {path}"))
    return out.stdout_bytes


def listdir(host: Host, path: str | Path) -> list[str]:
    """Entry names of a directory (hidden ones included, any byte but NUL in a name); [] when it is absent."""
    # -H: a directory given as a symlink (/var/odoo/backups -> /mnt/backups) is listed, not taken as a file
    out = run(host, ["find", "-H", str(path), "-mindepth", "1", "-maxdepth", "1", "-printf", "%f\\0"])
    if out.rc != 0:
        return []
    return sorted(name for name in out.stdout.split("\0") if name)


@dataclass(frozen=True)
class Entry:
    """One entry of a directory: its name, kind ('f' file, 'd' directory, 'l' link, ... as find's %y) and size."""

    name: str
    kind: str
    size: int


def entries(host: Host, path: str | Path) -> list[Entry]:
    """The entries of a directory with their kind and size, by name; [] when it is absent."""
    out = run(host, ["find", "-H", str(path), "-mindepth", "1", "-maxdepth", "1", "-printf", "%y %s %f\\0"])
    if out.rc != 0:
        return []
    found = []
    for record in out.stdout.split("\0"):
        if record:
            kind, size, name = record.split(" ", 2)
            found.append(Entry(name, kind, int(size)))
    return sorted(found, key=lambda e: e.name)


def sha256_each(host: Host, paths: Sequence[str]) -> dict[str, str]:
    """path -> hex sha256 of each readable file (an unreadable one is left out); streamed, as `sha256`."""
    if is_local(host):
        digests = {}
        for path in paths:
            try:
                digests[path] = sha256_file(path)
            except OSError:
                continue
        return digests
    digests = {}
    for start in range(0, len(paths), 200):  # a few hundred names per command line
        # -z: NUL-ended records, no escaping of odd names; a file it cannot read is reported on stderr only
        out = run(host, ["sha256sum", "-z", "--", *paths[start : start + 200]])
        for record in out.stdout.split("\0"):
            digest, sep, name = record.partition("  ")
            if sep:
                digests[name] = digest
    return digests
