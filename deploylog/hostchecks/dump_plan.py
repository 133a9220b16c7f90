"""How `deploylog backup` runs pg_dump: format, parallel jobs, compression, from [backup] and what pg_dump can do.

The speed of a dump is mostly its compression: pg_dump's default (gzip level 6)
compresses text at a few tens of MB/s on one core, so the dump waits on it;
zstd level 1 and lz4 keep up with the server, and compress about as well as
(zstd) or a little worse than (lz4) gzip 6. The directory format then lets `jobs`
processes dump (and later restore) several tables at once; a single big table
still goes at one process's speed.

`compression = "auto"` asks the installed pg_dump: version 16 and later take
`--compress=METHOD[:LEVEL]`, and whether this build has lz4 / zstd is found by
a probe that pg_dump answers before it connects anywhere ("this build does not
support compression with ZSTD"). Older pg_dump only knows gzip levels (`-Z N`).
"""

from __future__ import annotations

import functools
import os
import re
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from deploylog.errors import DeploylogError
from deploylog.spec import COMPRESSION, Spec

MAX_AUTO_JOBS = 8  # each job is one more database connection
AUTO_PREFERENCE = ("zstd:1", "lz4", "gzip:1")
METHOD_SYNTAX_SINCE = 16  # pg_dump --compress=METHOD[:LEVEL]; before it, a gzip level only
_VERSION = re.compile(r"\(PostgreSQL\)\s+(?P<major>\d+)(?:\.(?P<minor>\d+))?")
# A socket directory that cannot exist: pg_dump rejects an unsupported method before it gets this far.
# (No "compress" in it: the answer is read from whether pg_dump's error speaks of compression.)
_NOWHERE = "host=/nonexistent/deploylog-probe dbname=probe connect_timeout=1"


@dataclass(frozen=True)
class Plan:
    """One pg_dump run as [backup] and the installed pg_dump decide it."""

    binary: str
    major: int
    format: str  # "directory" | "custom"
    jobs: int  # 1 for the custom format
    compression: str  # "zstd:1", "gzip:1", "none", or "" for pg_dump's default
    why: str  # how the compression was chosen, for the printout

    def options(self) -> list[str]:
        """pg_dump's format, jobs and compression options."""
        words = [f"--format={self.format}"]
        if self.format == "directory" and self.jobs > 1:
            words.append(f"--jobs={self.jobs}")
        if self.compression:
            words.append(f"--compress={compression_argument(self.compression, self.major)}")
        return words

    def describe(self) -> str:
        """'directory format, 2 jobs, compression zstd:1 (auto: the fastest this pg_dump 18 has)'."""
        jobs = f", {self.jobs} job{'s' if self.jobs != 1 else ''}" if self.format == "directory" else ""
        return f"{self.format} format{jobs}, compression {self.compression or 'pg_dump default'} ({self.why})"


def compression_argument(compression: str, major: int) -> str:
    """The --compress value this pg_dump understands: METHOD[:LEVEL] since 16, a gzip level before."""
    if major >= METHOD_SYNTAX_SINCE:
        return compression
    if compression == "none":
        return "0"
    method, _, level = compression.partition(":")
    if method != "gzip":
        raise DeploylogError(f"pg_dump {major} cannot compress with {method} (pg_dump 16 or later can): set [backup] compression")
    return level or "6"


def version_of(binary: str) -> int:
    """The major version of a pg_dump / pg_restore binary, from its --version."""
    try:
        out = subprocess.run([binary, "--version"], capture_output=True, text=True, check=False, timeout=30)
    except OSError as exc:
        raise DeploylogError(f"cannot run {binary}: {exc.strerror or exc}") from None
    found = _VERSION.search(out.stdout)
    if out.returncode != 0 or not found:
        raise DeploylogError(f"{binary} --version did not say its version: {out.stdout.strip() or out.stderr.strip()}")
    return int(found.group("major"))


@functools.lru_cache(maxsize=32)
def supports(binary: str, compression: str) -> bool:
    """Whether this pg_dump build accepts --compress=compression (asked without connecting anywhere)."""
    with tempfile.TemporaryDirectory(prefix="deploylog-probe-") as private:
        argv = [binary, "--format=directory", f"--compress={compression}", f"--file={Path(private) / 'probe'}"]
        argv += ["--no-password", f"--dbname={_NOWHERE}"]
        try:
            out = subprocess.run(
                argv,
                capture_output=True,
                text=True,
                check=False,
                timeout=30,
                stdin=subprocess.DEVNULL,
                env={**os.environ, "LC_ALL": "C"},  # its messages in English, whatever the locale
            )
        except (OSError, subprocess.TimeoutExpired):
            return False
    return "compress" not in out.stderr.lower()


def auto_jobs() -> int:
    return max(1, min(os.cpu_count() or 1, MAX_AUTO_JOBS))


def choose_compression(binary: str, major: int, wanted: str) -> tuple[str, str]:
    """(compression, why) for [backup] compression on this pg_dump."""
    if not COMPRESSION.match(wanted):  # validated with the spec already; a programmatic Backup too
        raise DeploylogError(f"[backup] compression: unknown value {wanted!r}")
    if wanted == "default":
        return "", "pg_dump's default, [backup] compression"
    if wanted != "auto":
        if major >= METHOD_SYNTAX_SINCE and wanted != "none" and not supports(binary, wanted):
            method = wanted.partition(":")[0]
            raise DeploylogError(
                f"{binary} (pg_dump {major}) was built without {method} compression: "
                f'set [backup] compression = "auto" or another method'
            )
        compression_argument(wanted, major)  # a method older pg_dump cannot use fails here, before the dump
        return wanted, "[backup] compression"
    if major < METHOD_SYNTAX_SINCE:
        return "gzip:1", f"auto: pg_dump {major} only has gzip"
    for candidate in AUTO_PREFERENCE:
        if supports(binary, candidate):
            return candidate, f"auto: the fastest this pg_dump {major} has"
    return "none", f"auto: this pg_dump {major} has no compression"


def resolve(spec: Spec, binary: str) -> Plan:
    """The plan for this spec's [backup] on the pg_dump at `binary` (runs `pg_dump --version`, maybe a probe)."""
    major = version_of(binary)
    compression, why = choose_compression(binary, major, spec.backup.compression)
    jobs = (spec.backup.jobs or auto_jobs()) if spec.backup.format == "directory" else 1
    return Plan(binary, major, spec.backup.format, jobs, compression, why)
