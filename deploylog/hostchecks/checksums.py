"""4.9: the code on disk is the code the database was upgraded with (click-odoo-update's checksums).

After each upgrade, click-odoo-update (acsone/click-odoo-contrib) stores a sha1
of every installed addon folder in ir_config_parameter
`module_auto_update.installed_checksums` (update.py, `_save_installed_checksums`).
Here the same hash is computed again over each deployed module folder on the
host and compared with it. The rules are click-odoo-contrib's, reproduced from
its source (click_odoo_contrib/update.py `_get_checksum_dir`,
click_odoo_contrib/_addon_hash.py `addon_hash`, `_walk`; LGPL-3.0): that package
imports Odoo for everything else, and the host may be remote (no Python
deploylog there), so the files are listed with `find` and read through the
testinfra host. The self-tests compare this with the package's own function.

- files in os.walk order (followlinks False): a folder's files sorted by name,
  then its sub-folders sorted by name, depth first; a symlink to a folder is
  not entered, a symlink to a file is read through;
- a file whose path relative to the module matches (fnmatch) one of the
  exclude patterns is left out: ir_config_parameter
  `module_auto_update.exclude_patterns` (comma separated) or by default
  `*.pyc,*.pyo,i18n/*.pot,i18n_extra/*.pot,static/*,tests/*`;
- when some language is active (res_lang.active), a `.po` file directly in
  i18n/ or i18n_extra/ is left out unless the part of its name before "_" is
  one of those languages' (`fr_BE.po` -> `fr`, kept for an active fr_FR);
- sha1 over, for each file in turn, its relative path (UTF-8) then its bytes.
"""

from __future__ import annotations

import hashlib
import posixpath
from collections.abc import Iterable
from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import TYPE_CHECKING, Any

from deploylog import odoo
from deploylog.db import Snapshot, on_snapshot
from deploylog.errors import DeploylogError
from deploylog.hostchecks import hostio
from deploylog.hostchecks.code import MANIFEST
from deploylog.result import CheckResult, failed, not_applicable, verdict
from deploylog.spec import Spec

if TYPE_CHECKING:  # imported where used: start-up (pytest --co, the CLI) needs none of it
    from testinfra.host import Host

ITEM = "4.9"
DEFAULT_EXCLUDE_PATTERNS = "*.pyc,*.pyo,i18n/*.pot,i18n_extra/*.pot,static/*,tests/*"
I18N_DIRS = frozenset({"i18n", "i18n_extra"})
INSTALLED = frozenset({"installed", "to upgrade", "to remove"})


@dataclass(frozen=True)
class Rules:
    """Which files click-odoo-update hashes: its exclude patterns and the languages it keeps."""

    exclude: tuple[str, ...]
    languages: frozenset[str]  # "fr" for fr_FR: the part before "_"
    exclude_from: str  # where the patterns came from, for the evidence

    @classmethod
    def of(cls, parameter: str | None, language_codes: Iterable[str]) -> Rules:
        # update.py: _get_param(cr, PARAM_EXCLUDE_PATTERNS, DEFAULT_EXCLUDE_PATTERNS), split on "," and stripped
        text = DEFAULT_EXCLUDE_PATTERNS if parameter is None else parameter
        source = "default" if parameter is None else f"ir_config_parameter {odoo.EXCLUDE_PATTERNS_KEY}"
        return cls(tuple(p.strip() for p in text.split(",")), frozenset(c.split("_")[0] for c in language_codes), source)

    def hashed(self, path: str) -> bool:
        """Whether the file at `path` (relative to the module) enters the hash (_addon_hash._walk)."""
        if any(fnmatchcase(path, pattern) for pattern in self.exclude):
            return False
        folder, name = posixpath.split(path)
        if self.languages and folder in I18N_DIRS:
            stem, ext = posixpath.splitext(name)
            if ext == ".po" and stem.split("_")[0] not in self.languages:
                return False
        return True

    def describe(self) -> str:
        kept = ", ".join(sorted(self.languages)) or "all (no active language)"
        return f"excluded: {', '.join(self.exclude)} ({self.exclude_from}); .po files kept for languages: {kept}"


def walk(host: Host, top: str) -> list[str]:
    """The files under `top`, relative to it, in the order os.walk(top) yields them (links to folders not entered)."""
    # -H: `top` itself may be a link to the module folder (os.walk follows it); %Y: the type a link points to
    argv = ["find", "-H", top, "-mindepth", "1", "-printf", "%Y %P\\0"]
    out = hostio.run(host, argv)
    if out.rc != 0:
        raise DeploylogError(f"cannot list {top} on {hostio.host_name(host)}: {hostio.last_error(out, 'find failed')}")
    folders: dict[str, tuple[list[str], list[str]]] = {"": ([], [])}
    for entry in out.stdout_bytes.split(b"\0"):
        if not entry:
            continue
        kind, _, raw = entry.partition(b" ")
        path = raw.decode("utf-8", "surrogateescape")  # as os.walk decodes names
        parent, name = posixpath.split(path)
        files, subfolders = folders.setdefault(parent, ([], []))
        if kind == b"d":
            subfolders.append(name)
            folders.setdefault(path, ([], []))
        else:
            files.append(name)
    order: list[str] = []

    def visit(folder: str) -> None:
        files, subfolders = folders.get(folder, ([], []))
        order.extend(posixpath.join(folder, name) for name in sorted(files))
        for name in sorted(subfolders):
            visit(posixpath.join(folder, name))

    visit("")
    return order


def _read(host: Host, path: str) -> bytes:
    if hostio.is_local(host):
        with open(path, "rb") as fh:
            return fh.read()
    return hostio.read_bytes(host, path)


def addon_hash(host: Host, top: str, rules: Rules) -> tuple[str, int]:
    """(sha1 hex digest, number of files hashed) of the module folder `top`, as click-odoo-update computes it."""
    digest = hashlib.sha1(usedforsecurity=False)  # click-odoo-contrib's choice: a change detector, not a seal
    count = 0
    for path in walk(host, top):
        if not rules.hashed(path):
            continue
        try:
            name = path.encode("utf-8")
        except UnicodeEncodeError:
            where = posixpath.join(top, path)
            raise DeploylogError(f"{where}: file name is not UTF-8 (click-odoo-update cannot hash it either)") from None
        try:
            content = _read(host, posixpath.join(top, path))
        except OSError as exc:
            raise DeploylogError(f"cannot read {posixpath.join(top, path)} on {hostio.host_name(host)}: {exc}") from None
        digest.update(name)
        digest.update(content)
        count += 1
    return digest.hexdigest(), count


def deployed_modules(spec: Spec, host: Host) -> dict[str, str]:
    """module -> folder on the host: the addons of the checkout ([paths] repo), and each deployed module's folder."""
    repo = spec.paths.repo
    found: dict[str, str] = {}
    out = hostio.run(host, ["find", "-H", repo, "-mindepth", "1", "-maxdepth", "2", "-name", MANIFEST, "-printf", "%P\\0"])
    if out.rc != 0:
        raise DeploylogError(f"cannot list the addons of {repo} on {hostio.host_name(host)}: {hostio.last_error(out, 'find failed')}")
    for manifest in sorted(filter(None, out.stdout.split("\0"))):
        folder = posixpath.dirname(manifest)
        if folder:
            found[folder] = posixpath.join(repo, folder)
        else:  # the checkout is the module itself
            found[spec.deployment.module] = repo
    for module in spec.all_modules:
        found[module.name] = str(spec.module_dir_of(module.name))
    return found


def _short(checksum: Any) -> str:
    """The recorded value as the log shows it: click-odoo-update records false for an addon it found no folder of."""
    if checksum is False:
        return "false (no folder on the addons path when click-odoo-update ran)"
    return str(checksum) if isinstance(checksum, str) else repr(checksum)


@on_snapshot
def check(spec: Spec, snap: Snapshot, host: Host) -> CheckResult:
    """4.9: every deployed module's folder hashes to the checksum click-odoo-update recorded for it."""
    name = hostio.host_name(host)
    recorded = odoo.recorded_checksums(snap)
    queries = list(recorded.queries)
    if not recorded["present"]:
        return not_applicable(
            ITEM,
            f"no checksums recorded: ir_config_parameter has no key {odoo.INSTALLED_CHECKSUMS_KEY} (the database was not "
            "upgraded with click-odoo-update), so the code on disk cannot be compared with the code it was upgraded with",
            queries=queries,
            host=name,
        )
    if not spec.paths.repo:
        return failed(ITEM, "paths.repo is not set in deploy.toml: no deployed code to hash", queries=queries, host=name)
    checksums: dict[str, Any] = recorded["checksums"]
    rules = Rules.of(recorded["exclude_patterns"], recorded["languages"])
    modules = deployed_modules(spec, host)
    states = odoo.module_states(snap, modules)
    queries.append(hostio.shown(["find", "-H", spec.paths.repo, "-mindepth", "1", "-maxdepth", "2", "-name", MANIFEST]))
    rows, problems, skipped = [], [], []
    deployed = {m.name for m in spec.all_modules}
    for module, folder in modules.items():
        wanted = module in deployed or module in checksums or states.get(module) in INSTALLED
        if not wanted:
            skipped.append(module)
            continue
        if module not in checksums:
            state = states.get(module, "not in ir_module_module")
            problems.append(f"{module}: no checksum recorded (state {state!r}: installed or upgraded without click-odoo-update?)")
            rows.append(f"{module} | - | - | - | NOT RECORDED")
            continue
        if not hostio.stat(host, folder).is_dir:
            problems.append(f"{module}: folder {folder} does not exist on {name}")
            rows.append(f"{module} | {_short(checksums[module])} | - | - | NO FOLDER")
            continue
        queries.append(hostio.shown(["find", "-H", folder, "-mindepth", "1", "-printf", "%Y %P\\0"]))
        actual, count = addon_hash(host, folder, rules)
        same = actual == checksums[module]
        rows.append(f"{module} | {_short(checksums[module])} | {actual} | {count} | {'MATCH' if same else 'DIFFERS'}")
        if not same:
            problems.append(f"{module}: code on disk hashes to {actual}, click-odoo-update recorded {_short(checksums[module])}")
    evidence = "\n".join(
        [
            f"Recorded: ir_config_parameter {odoo.INSTALLED_CHECKSUMS_KEY} ({len(checksums)} module(s))",
            f"Hashing rules (click-odoo-contrib): {rules.describe()}",
            "",
            "module | recorded | on disk | files hashed | result",
            *rows,
            *([f"\nNot installed, not recorded (not compared): {', '.join(skipped)}"] if skipped else []),
        ]
    )
    compared = len(rows)
    message = "; ".join(problems) or f"code on disk matches the checksums click-odoo-update recorded for {compared} module(s)"
    figures = {"recorded": len(checksums), "compared": compared, "differ": len(problems)}
    return verdict(ITEM, not problems, message, evidence=evidence, queries=queries, figures=figures, host=name)
