"""What the module's git repository says about a deployment FROM..TO: its manifests, its changed files.

Everything is read from git objects (`git ls-tree`, `git show`, `git diff`), not
from the working tree, so the checkout may be on any branch. The manifest is read
as a literal (hostchecks/code.py's reader, the one 2.4 uses); nothing is executed.
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from deploylog.access import close_matches, did_you_mean
from deploylog.errors import DeploylogError
from deploylog.hostchecks import code, hostio

if TYPE_CHECKING:  # imported where used: start-up (pytest --co, the CLI) needs none of it
    from testinfra.backend.base import CommandResult

MANIFEST = code.MANIFEST


@dataclass(frozen=True)
class Manifest:
    """The module's __manifest__.py at one ref, as a literal."""

    ref: str
    path: str  # relative to the repository root
    values: dict[str, Any]

    @property
    def version(self) -> str:
        return str(self.values["version"])

    @property
    def name(self) -> str:
        return str(self.values.get("name") or "")


@dataclass(frozen=True)
class CodeFacts:
    """The deployment as the repository shows it."""

    repo: Path
    module: str
    module_dir: str  # the module's directory, relative to the repository root
    from_ref: str
    to_ref: str
    from_commit: str
    to_commit: str
    before: Manifest | None  # None: the module is not in the code at FROM (a first install)
    after: Manifest
    changed: tuple[str, ...]  # `git diff --name-only FROM..TO`, as 2.2 reads it after the pull
    manifest_note: str  # how the manifest changed (2.2's manifest_policy)
    manifest_version_only: bool  # the manifest changed in its version only (or not at all)
    branch: str  # the branch TO is on; '' when it cannot be told
    declared_groups: tuple[str, ...]  # res.groups records of the module's XML at TO, by XML id

    @property
    def from_label(self) -> str:
        return _label(self.from_ref, self.from_commit)

    @property
    def to_label(self) -> str:
        return _label(self.to_ref, self.to_commit)

    @property
    def range(self) -> str:
        """FROM..TO as given, and the commits they are."""
        return f"{self.from_label}..{self.to_label} ({self.from_commit[:12]}..{self.to_commit[:12]})"

    @property
    def manifest_path(self) -> str:
        return self.after.path

    def in_module(self, path: str) -> bool:
        return path.startswith(f"{self.module_dir}/")


def _label(ref: str, commit: str) -> str:
    """A ref as the comments show it: a full commit id shortened."""
    return commit[:12] if ref == commit else ref


def _git(repo: Path, *args: str) -> CommandResult:
    return code.git(hostio.local_host(), str(repo), *args)


def _failed(out: CommandResult) -> str:
    return hostio.last_error(out, "git failed")


def _repository(repo: Path) -> Path:
    if not repo.is_dir():
        raise DeploylogError(f"--repo {repo}: no such directory")
    out = _git(repo, "rev-parse", "--git-dir")
    if out.rc != 0:
        raise DeploylogError(f"--repo {repo} is not a git repository: {_failed(out)}")
    return repo.resolve()


def _commit(repo: Path, ref: str, option: str) -> str:
    out = _git(repo, "rev-parse", "--verify", "--quiet", "--end-of-options", f"{ref}^{{commit}}")
    if out.rc != 0 or not out.stdout.strip():
        raise DeploylogError(f"{option} {ref!r} is not a commit of {repo} (a branch, tag or commit id)")
    return out.stdout.strip()


def _files(repo: Path, commit: str, *under: str) -> list[str]:
    out = _git(repo, "ls-tree", "-r", "--name-only", commit, "--", *under)
    if out.rc != 0:
        raise DeploylogError(f"git ls-tree {commit[:12]} failed in {repo}: {_failed(out)}")
    return [line for line in out.stdout.splitlines() if line]


def module_dir(repo: Path, commit: str, ref: str, module: str) -> str:
    """The directory (relative to the repository root) holding <module>/__manifest__.py at `commit`."""
    manifests = [f for f in _files(repo, commit) if posixpath.basename(f) == MANIFEST]
    dirs = [posixpath.dirname(f) for f in manifests]
    found = [d for d in dirs if posixpath.basename(d) == module]
    if not found:
        modules = [posixpath.basename(d) for d in dirs if d]
        raise DeploylogError(
            f"unknown module {module!r}: no {module}/{MANIFEST} in {repo} at {ref}{did_you_mean(close_matches(module, modules))}"
        )
    if len(found) > 1:
        raise DeploylogError(f"module {module!r} is in {len(found)} directories of {repo} at {ref}: {', '.join(found)}")
    return found[0]


def manifest(repo: Path, commit: str, ref: str, path: str) -> Manifest | None:
    """The manifest at `commit`, read as a literal; None when the file is not there."""
    out = _git(repo, "cat-file", "-e", f"{commit}:{path}")
    if out.rc != 0:
        return None
    out = _git(repo, "show", f"{commit}:{path}")
    if out.rc != 0:
        raise DeploylogError(f"cannot read {path} at {ref}: {_failed(out)}")
    try:
        values, _ = code.read_manifest(out.stdout_bytes)
    except ValueError as exc:
        raise DeploylogError(f"{path} at {ref}: {exc}") from None
    version = values.get("version")
    if not isinstance(version, str) or not version.strip():
        raise DeploylogError(f"{path} at {ref} has no 'version' string (got {version!r}): a deployment needs one")
    return Manifest(ref, path, values)


def manifest_change(before: Manifest | None, after: Manifest) -> tuple[bool, str]:
    """(did only the version change?, the explanation), as 2.2's manifest_policy = "version-only" decides it."""
    if before is None:
        return False, f"{after.path} is new at {after.ref}"
    changed = sorted(k for k in before.values.keys() | after.values.keys() if before.values.get(k) != after.values.get(k))
    if not changed:
        return True, f"{after.path}: no change in value"
    if changed == ["version"]:
        return True, f"{after.path}: only 'version' changed ({before.version!r} -> {after.version!r})"
    return False, f"{after.path}: keys other than 'version' changed: {', '.join(changed)}"


def changed_files(repo: Path, from_commit: str, to_commit: str) -> tuple[str, ...]:
    """The files the pull changes: the command 2.2 runs (`git diff --name-only BEFORE..HEAD`)."""
    out = _git(repo, "diff", "--name-only", f"{from_commit}..{to_commit}")
    if out.rc != 0:
        raise DeploylogError(f"git diff {from_commit[:12]}..{to_commit[:12]} failed in {repo}: {_failed(out)}")
    return tuple(sorted(line for line in out.stdout.splitlines() if line))


def branch(repo: Path, ref: str, commit: str) -> str:
    """The branch P.3 and 2.1 expect: TO itself when it names one, else the only branch holding TO."""
    if _git(repo, "show-ref", "--verify", "--quiet", f"refs/heads/{ref}").rc == 0:
        return ref
    if "/" in ref and _git(repo, "show-ref", "--verify", "--quiet", f"refs/remotes/{ref}").rc == 0:
        return ref.split("/", 1)[1]  # origin/17.0 -> 17.0
    out = _git(repo, "branch", "--contains", commit, "--format=%(refname:short)")
    names = [line.strip() for line in out.stdout.splitlines() if line.strip() and not line.startswith("(")]
    return names[0] if out.rc == 0 and len(names) == 1 else ""


def declared_groups(repo: Path, commit: str, module: str, directory: str) -> tuple[str, ...]:
    """The XML ids of the res.groups records the module's XML files declare at `commit` (parsed, never loaded)."""
    from lxml import etree

    parser = etree.XMLParser(resolve_entities=False, no_network=True)
    found: list[str] = []
    for path in _files(repo, commit, f"{directory}/"):
        if not path.endswith(".xml"):
            continue
        out = _git(repo, "show", f"{commit}:{path}")
        try:
            root = etree.fromstring(out.stdout_bytes, parser)
        except etree.XMLSyntaxError:
            continue  # 2.3 reports a malformed file; it declares nothing here
        for record in root.iter("record"):
            xmlid = record.get("id") or ""
            if record.get("model") == "res.groups" and xmlid:
                found.append(xmlid if "." in xmlid else f"{module}.{xmlid}")
    return tuple(sorted(set(found)))


def read(repo: Path, module: str, from_ref: str, to_ref: str) -> CodeFacts:
    """The deployment FROM..TO of `module` in `repo`; DeploylogError (one line) for a bad repo, ref or manifest."""
    repo = _repository(repo)
    from_commit = _commit(repo, from_ref, "--from")
    to_commit = _commit(repo, to_ref, "--to")
    directory = module_dir(repo, to_commit, to_ref, module)
    path = f"{directory}/{MANIFEST}"
    after = manifest(repo, to_commit, to_ref, path)
    assert after is not None  # module_dir found it
    before = manifest(repo, from_commit, from_ref, path)
    only_version, note = manifest_change(before, after)
    return CodeFacts(
        repo=repo,
        module=module,
        module_dir=directory,
        from_ref=from_ref,
        to_ref=to_ref,
        from_commit=from_commit,
        to_commit=to_commit,
        before=before,
        after=after,
        changed=changed_files(repo, from_commit, to_commit),
        manifest_note=note,
        manifest_version_only=only_version,
        branch=branch(repo, to_ref, to_commit),
        declared_groups=declared_groups(repo, to_commit, module, directory),
    )
