"""A directory-format dump's manifest: the sha256 of every file pg_dump wrote, kept beside them.

`deploylog backup` writes `SHA256SUMS` into the dump directory (in `sha256sum`
format, so `cd <dump> && sha256sum -c SHA256SUMS` checks it by hand) before the
directory gets its final name. 1.1 and P.2 read every file again on the host
and compare: a file changed, missing or added since the dump was written fails,
named. The custom format has pg_restore's full read only; a directory dump's
data files may be uncompressed, which no read would catch, hence the manifest.
A directory dump made without deploylog (a nightly `pg_dump -Fd`) has no
manifest: its digests are recorded in the evidence, compared with nothing.

The dump's one digest (the log's "SHA-256", the snapshot marker's) is the
sha256 of its SHA256SUMS text: one value that changes when any file does.
"""

from __future__ import annotations

import hashlib
import posixpath
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from deploylog.files import sha256_file
from deploylog.hostchecks import hostio

if TYPE_CHECKING:  # imported where used: start-up (pytest --co, the CLI) needs none of it
    from testinfra.host import Host

MANIFEST = "SHA256SUMS"


def manifest_text(digests: dict[str, str]) -> str:
    """`sha256sum` output for name -> digest, by name."""
    return "".join(f"{digests[name]}  {name}\n" for name in sorted(digests))


def parse_manifest(text: str) -> dict[str, str]:
    """name -> digest from `sha256sum` output (text or binary mode marker)."""
    found = {}
    for line in text.splitlines():
        digest, sep, name = line.partition(" ")
        if sep and len(digest) == 64:
            found[name[1:] if name[:1] in (" ", "*") else name] = digest.lower()
    return found


@dataclass(frozen=True)
class Written:
    """What a directory dump holds once its manifest is written."""

    size: int  # bytes of all its files, the manifest included
    files: int  # pg_dump's files (the manifest not counted)
    sha256: str  # of the manifest's text


def write_manifest(directory: Path) -> Written:
    """Hash every file pg_dump wrote and write SHA256SUMS beside them (on this machine)."""
    files = sorted(p for p in directory.iterdir() if p.is_file() and p.name != MANIFEST)
    text = manifest_text({p.name: sha256_file(p) for p in files})
    (directory / MANIFEST).write_text(text)
    size = sum(p.stat().st_size for p in directory.iterdir() if p.is_file())
    return Written(size, len(files), hashlib.sha256(text.encode()).hexdigest())


@dataclass
class Checked:
    """A directory dump read on the host: each file's size and digest, and what differs from its manifest."""

    files: list[hostio.Entry] = field(default_factory=list)
    digests: dict[str, str] = field(default_factory=dict)  # name -> sha256 now
    manifest: dict[str, str] | None = None  # name -> sha256 when written; None: no manifest
    problems: list[str] = field(default_factory=list)
    sha256: str = ""  # of the manifest as found, else of the listing computed now

    @property
    def size(self) -> int:
        return sum(f.size for f in self.files)

    def lines(self) -> list[str]:
        """The evidence: one line per file, marked where it differs from the manifest."""
        shown = []
        for entry in self.files:
            if entry.name == MANIFEST:
                continue
            digest = self.digests.get(entry.name, "(unreadable)")
            mark = ""
            if self.manifest is not None:
                expected = self.manifest.get(entry.name)
                mark = "  NOT IN MANIFEST" if expected is None else ("" if expected == digest else f"  CHANGED (manifest {expected})")
            shown.append(f"  {entry.name}  {entry.size} bytes  sha256 {digest}{mark}")
        for name in sorted(set(self.manifest or {}) - {f.name for f in self.files}):
            shown.append(f"  {name}  MISSING (manifest {(self.manifest or {})[name]})")
        return shown


def check(host: Host, directory: str) -> Checked:
    """Every file of a directory dump read whole on the host and compared with its SHA256SUMS."""
    found = Checked(files=hostio.entries(host, directory))
    others = [e.name for e in found.files if e.kind != "f"]
    if others:
        found.problems.append(f"dump directory holds what pg_dump never writes: {', '.join(others)}")
    names = [e.name for e in found.files if e.kind == "f" and e.name != MANIFEST]
    paths = {posixpath.join(directory, name): name for name in names}
    found.digests = {paths[path]: digest for path, digest in hostio.sha256_each(host, list(paths)).items()}
    unreadable = [name for name in names if name not in found.digests]
    if unreadable:
        found.problems.append(f"dump file(s) cannot be read: {', '.join(unreadable)}")
    if MANIFEST in {e.name for e in found.files}:
        try:
            text = hostio.read_bytes(host, posixpath.join(directory, MANIFEST)).decode("utf-8", "replace")
        except OSError as exc:
            found.problems.append(f"{MANIFEST} cannot be read: {exc}")
            text = ""
        found.manifest = parse_manifest(text)
        found.sha256 = hashlib.sha256(text.encode()).hexdigest()
        found.problems += _differences(found.manifest, found.digests, set(unreadable))
    else:
        found.sha256 = hashlib.sha256(manifest_text(found.digests).encode()).hexdigest()
    return found


def _differences(manifest: dict[str, str], digests: dict[str, str], unreadable: set[str]) -> list[str]:
    problems = []
    missing = sorted(set(manifest) - set(digests) - unreadable)
    if missing:
        problems.append(f"dump file(s) listed in {MANIFEST} are missing: {', '.join(missing)}")
    changed = sorted(name for name in set(manifest) & set(digests) if manifest[name] != digests[name])
    if changed:
        problems.append(f"dump file(s) changed since the dump was written (sha256 differs from {MANIFEST}): {', '.join(changed)}")
    added = sorted(set(digests) - set(manifest))
    if added:
        problems.append(f"dump file(s) not in {MANIFEST} (added after the dump was written): {', '.join(added)}")
    return problems
