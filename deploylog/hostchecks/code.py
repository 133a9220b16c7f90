"""Phase 2: the code deployment (2.1 git pull, 2.2 changed files, 2.3 syntax, 2.4 version).

The deployed checkout is read on the host (git, file contents); nothing of the
module is ever imported or executed: Python is only compiled, the manifest is
read with ast.literal_eval, XML is parsed with lxml.
"""

from __future__ import annotations

import ast
import posixpath
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from deploylog.hostchecks import hostio
from deploylog.result import CheckResult, errored, failed, passed, verdict
from deploylog.spec import Spec

if TYPE_CHECKING:  # imported where used: start-up (pytest --co, the CLI) needs none of it
    from testinfra.backend.base import CommandResult
    from testinfra.host import Host

MANIFEST = "__manifest__.py"


def git(host: Host, repo: str, *args: str) -> CommandResult:
    # safe.directory: the checkout usually belongs to the odoo user, not to whoever runs the log.
    return hostio.run(host, ["git", "-c", f"safe.directory={repo}", "-C", repo, *args])


def git_shown(repo: str, *args: str) -> str:
    return hostio.shown(["git", "-C", repo, *args])


def module_prefix(spec: Spec, module: str = "") -> str:
    """A deployed module's directory (the primary's by default) relative to the repository root ('' when the repo is the module)."""
    rel = posixpath.relpath(str(spec.module_dir_of(module or spec.deployment.module)), spec.paths.repo)
    return "" if rel == "." else rel


def manifest_path_in_repo(spec: Spec, module: str = "") -> str:
    prefix = module_prefix(spec, module)
    return f"{prefix}/{MANIFEST}" if prefix else MANIFEST


@dataclass(frozen=True)
class Checkout:
    """What every 2.1-2.3 check starts from: the repository, the baseline's HEAD, the host's name."""

    repo: str
    before: str
    host_name: str


def _checkout(item: str, spec: Spec, before: str | None, host: Host) -> Checkout | CheckResult:
    """The checkout to verify, or the item's FAIL when deploy.toml or the baseline cannot name it."""
    name = hostio.host_name(host)
    if not spec.paths.repo:
        return failed(item, "paths.repo is not set in deploy.toml: no checkout to verify", host=name)
    if not before:  # phase 0 fails without a HEAD: this host was not in phase 0's --hosts
        return errored(
            item,
            f"the baseline records no HEAD before the deployment for host {name} (phase 0 ran without it in --hosts): "
            "the code before cannot be known now; run phase 0 and post with the same --hosts on the next attempt "
            "(a new [deployment] id)",
            host=name,
        )
    return Checkout(spec.paths.repo, before, name)


# ---------------------------------------------------------------- 2.1 git pull


def git_pull(spec: Spec, before: str | None, host: Host) -> CheckResult:
    """2.1: on the expected branch, HEAD moved forward from the baseline's HEAD; log between them."""
    checkout = _checkout("2.1", spec, before, host)
    if isinstance(checkout, CheckResult):
        return checkout
    repo, before, name = checkout.repo, checkout.before, checkout.host_name
    queries = [git_shown(repo, "rev-parse", "--abbrev-ref", "HEAD"), git_shown(repo, "rev-parse", "HEAD")]
    branch_out = git(host, repo, "rev-parse", "--abbrev-ref", "HEAD")
    head_out = git(host, repo, "rev-parse", "HEAD")
    if branch_out.rc != 0 or head_out.rc != 0:
        err = (head_out.stderr or branch_out.stderr).strip().splitlines()
        return failed("2.1", f"{repo} is not a readable git checkout: {err[-1] if err else 'git failed'}", queries=queries, host=name)
    branch, after = branch_out.stdout.strip(), head_out.stdout.strip()
    log_args = ("log", "--oneline", "--no-decorate", f"{before}..{after}")
    queries.append(git_shown(repo, *log_args))
    log_out = git(host, repo, *log_args)
    log_text = log_out.stdout.strip() if log_out.rc == 0 else f"(git log failed: {log_out.stderr.strip()})"
    evidence = "\n".join(
        [
            f"Current Branch: {branch}",
            f"Before: HEAD = {before}  (from the baseline, phase 0)",
            f"After:  HEAD = {after}",
            "",
            "Command output:",
            log_text or "(no commits between them)",
        ]
    )
    problems = []
    expected_branch = spec.deployment.branch
    if expected_branch and branch != expected_branch:
        problems.append(f"on branch {branch!r}, expected {expected_branch!r}")
    if after == before:
        problems.append("HEAD did not move: the deployment commit was not pulled")
    else:
        queries.append(git_shown(repo, "merge-base", "--is-ancestor", before, after))
        ancestor = git(host, repo, "merge-base", "--is-ancestor", before, after)
        if ancestor.rc == 1:
            problems.append(f"HEAD {after[:12]} does not descend from the baseline HEAD {before[:12]} (history rewritten?)")
        elif ancestor.rc != 0:
            problems.append(f"baseline HEAD {before[:12]} is not in this repository: {ancestor.stderr.strip()}")
    commits = len(log_text.splitlines()) if log_out.rc == 0 else 0
    figures = {"branch": branch, "head_before": before, "head_after": after, "commits": commits}
    if problems:
        return failed("2.1", "; ".join(problems), evidence=evidence, queries=queries, figures=figures, host=name)
    return passed(
        "2.1",
        f"{branch}: {before[:12]} -> {after[:12]} ({commits} commit(s))",
        evidence=evidence,
        queries=queries,
        figures=figures,
        host=name,
    )


# ---------------------------------------------------------- 2.2 changed files


@dataclass
class Diff:
    files: list[str]
    stat: str
    dirty: list[str]
    error: str = ""
    bytecode: int = 0  # untracked/modified bytecode caches left out of `dirty`


def is_bytecode(path: str) -> bool:
    """A bytecode cache Python (Odoo at its restart) writes beside the code: not a code change."""
    return "__pycache__" in path.split("/") or path.endswith((".pyc", ".pyo"))


def porcelain_paths(raw: bytes) -> list[str]:
    """Paths of `git status --porcelain -z`: `XY path\\0`, a rename or copy followed by `origpath\\0`."""
    paths, entries = [], iter(raw.split(b"\0"))
    for entry in entries:
        if len(entry) < 4:
            continue
        paths.append(entry[3:].decode("utf-8", "surrogateescape"))
        if entry[:1] in (b"R", b"C") or entry[1:2] in (b"R", b"C"):
            next(entries, None)  # the original path of a rename/copy
    return paths


def diff(spec: Spec, before: str, host: Host) -> Diff:
    repo = spec.paths.repo
    names = git(host, repo, "diff", "--name-only", f"{before}..HEAD")
    if names.rc != 0:
        return Diff([], "", [], error=hostio.last_error(names, "git diff failed"))
    stat = git(host, repo, "diff", "--stat", f"{before}..HEAD").stdout.rstrip()
    # Uncommitted edits are deployed code too, yet invisible to before..HEAD; bytecode caches are not code.
    status = git(host, repo, "status", "--porcelain", "-z", "--untracked-files=all")
    uncommitted = porcelain_paths(status.stdout_bytes) if status.rc == 0 else []
    dirty = sorted(p for p in uncommitted if not is_bytecode(p))
    return Diff(sorted(f for f in names.stdout.splitlines() if f), stat, dirty, bytecode=len(uncommitted) - len(dirty))


def _manifest_dict(source: bytes) -> dict[str, Any]:
    value = ast.literal_eval(source.decode("utf-8"))
    if not isinstance(value, dict):
        raise ValueError(f"is a {type(value).__name__}, not a dict")
    return value


def manifest_change(spec: Spec, before: str, host: Host, path: str = "") -> tuple[bool, str]:
    """(only the version changed?, explanation) comparing the two manifests (the primary module's by default) as literals."""
    repo, path = spec.paths.repo, path or manifest_path_in_repo(spec)
    old = git(host, repo, "show", f"{before}:{path}")
    new = git(host, repo, "show", f"HEAD:{path}")
    if old.rc != 0 or new.rc != 0:
        return False, f"{path}: cannot read both versions from git"
    try:
        a, b = _manifest_dict(old.stdout_bytes), _manifest_dict(new.stdout_bytes)
    except (ValueError, SyntaxError, UnicodeDecodeError) as exc:
        return False, f"{path}: not a manifest literal ({exc})"
    changed = sorted(k for k in a.keys() | b.keys() if a.get(k) != b.get(k))
    if changed == ["version"]:
        return True, f"{path}: only 'version' changed ({a.get('version')!r} -> {b.get('version')!r})"
    if not changed:
        return True, f"{path}: no change in value (formatting only)"
    return False, f"{path}: keys other than 'version' changed: {', '.join(changed)}"


def changed_files(spec: Spec, before: str | None, host: Host) -> CheckResult:
    """2.2: the files changed before..HEAD equal expected.changed_files (manifest rule in the evidence)."""
    checkout = _checkout("2.2", spec, before, host)
    if isinstance(checkout, CheckResult):
        return checkout
    repo, before, name = checkout.repo, checkout.before, checkout.host_name
    queries = [
        git_shown(repo, "diff", "--name-only", f"{before}..HEAD"),
        git_shown(repo, "diff", "--stat", f"{before}..HEAD"),
        git_shown(repo, "status", "--porcelain", "-z", "--untracked-files=all"),
    ]
    found = diff(spec, before, host)
    if found.error:
        return failed("2.2", f"git diff failed: {found.error}", queries=queries, host=name)
    expected = sorted(spec.expected.changed_files)
    extra = [f for f in found.files if f not in expected]
    missing = [f for f in expected if f not in found.files]
    notes = []
    for manifest in [manifest_path_in_repo(spec, m.name) for m in spec.all_modules]:  # each deployed module's
        if manifest not in extra:
            continue
        if spec.expected.manifest_policy == "version-only":
            only_version, why = manifest_change(spec, before, host, manifest)
            if only_version:
                extra.remove(manifest)
                notes.append(f"accepted: {why} (manifest_policy = version-only; 2.4 needs this bump)")
            else:
                notes.append(f"not accepted: {why}")
        else:
            notes.append(f"{manifest} changed but is not listed (manifest_policy = listed)")
    lines = ["Files Changed:"]
    lines += [f"  {'☑' if f in found.files else '☐'} {f}" for f in expected]
    lines += [f"  + {f}  (not expected)" for f in extra]
    if notes:
        lines += ["", "Manifest:", *[f"  {n}" for n in notes]]
    if found.dirty:
        lines += ["", "Uncommitted changes in the checkout (deployed but not in any commit):", *[f"  {f}" for f in found.dirty]]
    if found.bytecode:
        lines += [
            "",
            f"Ignored {found.bytecode} bytecode cache file(s) (__pycache__/, *.pyc, *.pyo): written by Python, not code",
        ]
    lines += ["", "File stats:", found.stat or "(empty diff)"]
    evidence = "\n".join(lines)
    figures = {
        "changed": found.files,
        "expected": expected,
        "unexpected": extra,
        "missing": missing,
        "uncommitted": found.dirty,
        "bytecode_ignored": found.bytecode,
    }
    problems = []
    if extra:
        problems.append(f"unexpected: {', '.join(extra)}")
    if missing:
        problems.append(f"missing: {', '.join(missing)}")
    if found.dirty:
        problems.append(f"uncommitted: {', '.join(found.dirty)}")
    if problems:
        return failed(
            "2.2", "UNEXPECTED CHANGES - " + "; ".join(problems), evidence=evidence, queries=queries, figures=figures, host=name
        )
    count = len(found.files)
    return passed(
        "2.2",
        f"{count} FILES CHANGED as expected" + (" (+ manifest version bump)" if notes else ""),
        evidence=evidence,
        queries=queries,
        figures=figures,
        host=name,
    )


# -------------------------------------------------------------- 2.3 syntax


def python_error(source: bytes, label: str) -> str | None:
    """file:line:message when the source does not compile (compiled only, never run)."""
    try:
        compile(source, label, "exec", dont_inherit=True)
    except SyntaxError as exc:
        return f"{label}:{exc.lineno or 0}:{exc.msg}"
    except ValueError as exc:  # e.g. null bytes
        return f"{label}:0:{exc}"
    return None


def xml_error(source: bytes, label: str) -> str | None:
    """file:line:message when the XML is not well-formed."""
    from lxml import etree

    parser = etree.XMLParser(resolve_entities=False, no_network=True)
    try:
        etree.fromstring(source, parser)
    except etree.XMLSyntaxError as exc:
        return f"{label}:{exc.lineno or 0}:{exc.msg}"
    return None


def syntax(spec: Spec, before: str | None, host: Host) -> CheckResult:
    """2.3: every changed .py compiles and every changed .xml parses, as deployed on disk."""
    checkout = _checkout("2.3", spec, before, host)
    if isinstance(checkout, CheckResult):
        return checkout
    repo, before, name = checkout.repo, checkout.before, checkout.host_name
    found = diff(spec, before, host)
    if found.error:
        return failed("2.3", f"git diff failed: {found.error}", host=name)
    candidates = sorted(set(found.files) | set(spec.expected.changed_files) | set(found.dirty))
    checked = [f for f in candidates if f.endswith((".py", ".xml"))]
    lines, errors, skipped = [], [], []
    for rel in checked:
        path = posixpath.join(repo, rel)
        try:
            source = hostio.read_bytes(host, path)
        except OSError:
            skipped.append(f"{rel}: deleted (not on disk)")
            continue
        err = python_error(source, rel) if rel.endswith(".py") else xml_error(source, rel)
        kind = "Python" if rel.endswith(".py") else "XML"
        lines.append(f"{kind} {rel}: {'ERROR' if err else 'OK'}")
        if err:
            errors.append(err)
    others = [f for f in candidates if f not in checked]
    evidence = "\n".join(
        lines
        + ([""] + [f"  {e}" for e in errors] if errors else [])
        + (["", *skipped] if skipped else [])
        + (["", "Not syntax-checked (neither .py nor .xml): " + ", ".join(others)] if others else [])
    )
    queries = ["compile(<source>, <file>, 'exec')  # never executed", "lxml.etree.fromstring(<xml>)"]
    figures = {"checked": len(lines), "errors": errors}
    if errors:
        return failed(
            "2.3", "SYNTAX ERROR (ABORT): " + "; ".join(errors), evidence=evidence, queries=queries, figures=figures, host=name
        )
    if not lines:
        return failed(
            "2.3", "no changed .py or .xml file found on disk to check", evidence=evidence, queries=queries, figures=figures, host=name
        )
    return passed(
        "2.3", f"ALL OK: {len(lines)} file(s) compile / parse", evidence=evidence, queries=queries, figures=figures, host=name
    )


# ------------------------------------------------------------- 2.4 version


def read_manifest(source: bytes) -> tuple[dict[str, Any], str]:
    """(manifest dict, the source line holding 'version'); ValueError when it is not a literal dict."""
    try:
        text = source.decode("utf-8")
        tree = ast.parse(text, mode="eval")
    except (UnicodeDecodeError, SyntaxError) as exc:
        raise ValueError(f"not valid Python: {exc}") from None
    if not isinstance(tree.body, ast.Dict):
        raise ValueError("is not a dict literal")
    try:
        value = ast.literal_eval(tree.body)
    except ValueError as exc:
        raise ValueError(f"is not a plain literal (would need executing): {exc}") from None
    line = ""
    for key in tree.body.keys:
        if isinstance(key, ast.Constant) and key.value == "version":
            line = text.splitlines()[key.lineno - 1].strip()
    return value, line


@dataclass(frozen=True)
class ManifestVersion:
    """One module's 2.4: its manifest's version line, the version Odoo reads, or why it cannot be read."""

    module: str
    expected: str
    path: str
    version: Any = None
    effective: Any = None
    line: str = ""
    problem: str = ""

    @property
    def ok(self) -> bool:
        return not self.problem and self.effective == self.expected


def _module_manifest(spec: Spec, module: str, expected: str, host: Host) -> ManifestVersion:
    path = str(spec.module_dir_of(module) / MANIFEST)
    try:
        source = hostio.read_bytes(host, path)
    except OSError:
        return ManifestVersion(module, expected, path, problem=f"manifest not found: {path}")
    try:
        manifest, line = read_manifest(source)
    except ValueError as exc:
        return ManifestVersion(module, expected, path, problem=f"malformed manifest {path}: {exc}")
    version = manifest.get("version")
    # Odoo prefixes a short version ("1.0.9") with the series ("17.0."): accept the same.
    series = ".".join(expected.split(".")[:2])
    effective = f"{series}.{version}" if isinstance(version, str) and version.count(".") == 2 else version
    return ManifestVersion(module, expected, path, version, effective, line)


def manifest_version(spec: Spec, host: Host) -> CheckResult:
    """2.4: each deployed module's __manifest__.py 'version' equals its expected version (read as a literal, never executed)."""
    name = hostio.host_name(host)
    found = [_module_manifest(spec, m.name, m.expected_version, host) for m in spec.all_modules]
    queries = [f"ast.literal_eval(open({f.path!r}).read())  # never executed" for f in found]
    several = len(found) > 1
    lines: list[str] = []
    problems: list[str] = []
    for f in found:
        if several:
            lines += [f"{f.module}:"] if not lines else ["", f"{f.module}:"]
        lines.append(f"Expected: 'version': '{f.expected}'")
        if f.problem:
            lines.append(f"Actual: {f.problem}")
            problems.append(f"{f.module}: {f.problem}" if several else f.problem)
            continue
        lines += ["", f"Actual version in {f.path}:", f.line or "(no 'version' key)"]
        if f.effective != f.version:
            lines.append(f"(Odoo reads {f.version!r} as {f.effective!r})")
        if not f.ok:
            wrong = f"{f.version!r}, expected {f.expected!r}"
            problems.append(f"{f.module} {wrong}" if several else wrong)
    figures = {"version": found[0].version} if not several else {"versions": {f.module: f.version for f in found}}
    if problems:
        message = "WRONG VERSION (ABORT): " + "; ".join(problems)
    elif several:
        message = "CORRECT VERSIONS: " + ", ".join(f"{f.module} {f.effective}" for f in found)
    else:
        message = f"CORRECT VERSION {found[0].effective}"
    return verdict("2.4", not problems, message, evidence="\n".join(lines), queries=queries, figures=figures, host=name)
