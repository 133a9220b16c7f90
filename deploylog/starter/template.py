"""The deploy.toml `deploylog init` writes: the values the code and the database gave, each with a
comment saying where it came from, and commented examples of what only the operator can know
(guards, checks, waivers, protected data).

A Draft is sections of entries (so the command line's --set and options can have the last word
before anything is written), rendered to TOML text with the comments.
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from deploylog import spec as spec_mod
from deploylog import tomlwrite
from deploylog.starter.code import CodeFacts
from deploylog.starter.database import RECONCILIATION_TABLES, DatabaseFacts

# The template's roles ([groups]), and the words that name a group for each, best first.
ROLE_WORDS = {
    "manager": ("manager", "admin"),
    "reviewer": ("reviewer", "review", "verifier", "verif"),
    "approver": ("approver", "approv", "authoriz"),
}
CHECK_MARK = "check:"
LINE = 100  # a longer list is written one element a line
# The spec's defaults, written out so the operator sees them (never a second copy of the numbers).
DATABASE = spec_mod.Database(name="")
SERVICE = spec_mod.Service()
THRESHOLDS = spec_mod.Thresholds()  # a comment line the operator must read before the first run


def _comment(text: str, indent: str = "") -> list[str]:
    return [f"{indent}# {line}".rstrip() for line in text.splitlines()] if text else []


@dataclass
class Entry:
    key: str
    value: Any
    note: str = ""  # comment lines above the key
    element_notes: dict[str, str] = field(default_factory=dict)  # a list's element -> its trailing comment

    def lines(self) -> list[str]:
        out = _comment(self.note)
        one_line = f"{self.key} = {tomlwrite.value(self.value)}"
        if isinstance(self.value, list | tuple) and (len(one_line) > LINE or self.element_notes):
            out.append(f"{self.key} = [")
            for element in self.value:
                trailing = self.element_notes.get(element, "")
                out.append(f"    {tomlwrite.value(element)},{f'  # {trailing}' if trailing else ''}")
            out.append("]")
        else:
            out.append(one_line)
        return out


@dataclass
class Section:
    name: str
    entries: list[Entry]
    note: str = ""
    omitted: bool = False  # not written: its items are not in the runbook; the note says why and how to add it

    def entry(self, key: str) -> Entry | None:
        return next((e for e in self.entries if e.key == key), None)

    def lines(self) -> list[str]:
        if self.omitted:
            return [*_comment(self.note), ""]
        body = [line for entry in self.entries for line in entry.lines()]
        return [*_comment(self.note), f"[{self.name}]", *body, ""]


@dataclass(frozen=True)
class Example:
    """A commented block: what it is for, and the TOML it is once uncommented."""

    note: str
    toml: str

    def lines(self) -> list[str]:
        return [*_comment(self.note), *(f"# {line}".rstrip() for line in self.toml.strip().splitlines()), ""]


@dataclass
class Draft:
    header: str
    sections: list[Section]
    examples: list[Example]

    def section(self, name: str) -> Section:
        found = next((s for s in self.sections if s.name == name), None)
        if found is None:
            found = Section(name, [])
            self.sections.append(found)
        return found

    def apply(self, overlay: spec_mod.Overrides) -> None:
        """The command line's values (--set section.key=value, --dsn, ...) have the last word."""
        for name, values in overlay.items():
            section = self.section(name)
            for key, value in values.items():
                entry = section.entry(key)
                if entry is None:
                    section.entries.append(Entry(key, value, "from the command line"))
                else:
                    entry.value = value

    def data(self) -> dict[str, Any]:
        return {s.name: {e.key: e.value for e in s.entries} for s in self.sections if not s.omitted}

    def text(self) -> str:
        lines = [*_comment(self.header), ""]
        for section in self.sections:
            lines += section.lines()
        for example in self.examples:
            lines += example.lines()
        return "\n".join(lines).rstrip() + "\n"


# ------------------------------------------------------------------ values


def odoo_version(version: str, major: int) -> str:
    """The version Odoo records for a manifest version: a short one ("1.0.9") is prefixed with the series."""
    series = f"{major}.0"
    return version if version.startswith(f"{series}.") else f"{series}.{version}"


def _local(xmlid: str) -> str:
    return xmlid.split(".", 1)[-1].lower()


def roles(groups: Sequence[str], module: str) -> dict[str, tuple[str, str]]:
    """role -> (XML id, why): each role gets the module's group named like it; a role none is named like gets
    the manager's group (or the module's first). `groups` is not empty (without groups, no [groups])."""
    found: dict[str, str] = {}
    for role, words in ROLE_WORDS.items():
        for word in words:
            named = sorted((g for g in groups if word in _local(g)), key=lambda g: (len(g), g))
            if named:
                found[role] = named[0]
                break
    fallback = found.get("manager", sorted(groups)[0])
    return {
        role: (found[role], "")
        if role in found
        else (fallback, f"{CHECK_MARK} no group of {module} is named like a {role}: {fallback} stands in; name the right one")
        for role in ROLE_WORDS
    }


def _deployment(code: CodeFacts, dbf: DatabaseFacts, first_install: bool) -> Section:
    major = dbf.odoo.major
    expected = odoo_version(code.after.version, major)
    written = f"'version': {code.after.version!r} in {code.after.path} at {code.to_label}"
    if expected != code.after.version:
        written += f" (Odoo {major} records it as {expected})"
    if code.before is not None and code.before.version == code.after.version:
        written += f"\n{CHECK_MARK} the same version as at {code.from_label}: 2.4 and 4.1 cannot tell the new code is deployed"
    entries = [
        Entry("module", code.module),
        Entry("title", code.after.name or code.module, "a title for the log's header (the manifest's name)"),
        Entry("expected_version", expected, written),
    ]
    if code.before is not None:
        previous = odoo_version(code.before.version, major)
        note = f"'version': {code.before.version!r} at {code.from_label}"
        if dbf.module_version and dbf.module_version != previous:
            note += f"\n{CHECK_MARK} the database has {dbf.module_version}, not {previous}: is --from the code running now?"
        entries.append(Entry("previous_version", previous, note))
    branch_note = (
        f"the branch {code.to_label} is on: P.3 and 2.1 expect the checkout on it"
        if code.branch
        else f"{CHECK_MARK} no single branch holds {code.to_label}: empty, the branch is not checked (P.3, 2.1)"
    )
    entries.append(Entry("branch", code.branch, branch_note))
    if first_install:
        state = f"state {dbf.module_state}" if dbf.module_state else "no row in ir_module_module"
        entries.append(Entry("first_install", True, f"declared with --first-install: {dbf.name} has {state}"))
    return Section(
        "deployment",
        entries,
        "id: default <database>-<module>-<expected_version>; a new attempt after a started deployment needs a new id",
    )


def _database(dbf: DatabaseFacts, dsn: str) -> Section:
    return Section(
        "database",
        [
            Entry("name", dbf.name, f"{dbf.odoo.label}, PostgreSQL {dbf.server_version}"),
            Entry(
                "dsn",
                dsn,
                "libpq conninfo or URI; empty: PG* variables and ~/.pgpass. Never a password here: use ~/.pgpass",
            ),
            Entry("statement_timeout_ms", DATABASE.statement_timeout_ms),
            Entry("lock_timeout_ms", DATABASE.lock_timeout_ms),
            Entry("connect_timeout_s", DATABASE.connect_timeout_s),
        ],
    )


def _paths(code: CodeFacts) -> Section:
    entries = [
        Entry("repo", str(code.repo), f"{CHECK_MARK} the checkout init read; on every Odoo host the checkout the log verifies"),
    ]
    if code.module_dir != code.module:
        entries.append(Entry("module_dir", str(code.repo / code.module_dir), "the module is not at <repo>/<module>"))
    entries += [
        Entry("backup_dir", "/var/odoo/backups", f"{CHECK_MARK} where `deploylog backup` writes (phase 1) and P.2 looks"),
        Entry("log_file", "/var/log/odoo/odoo-server.log", f"{CHECK_MARK} the Odoo server log phase 6 reads"),
        Entry("baseline_dir", "baseline", "relative paths are relative to this file"),
        Entry("report_dir", "reports"),
    ]
    return Section("paths", entries, 'tests = ["tests"]: directories of your own tests (docs/write-your-own-check.md)')


def _service() -> Section:
    return Section(
        "service",
        [
            Entry("manager", "systemd", f"{CHECK_MARK} systemd, process (by process_name), pidfile or none"),
            Entry("name", SERVICE.name),
            Entry("process_name", SERVICE.process_name),
            Entry("health_url", "http://127.0.0.1:8069/web/health"),
            Entry("cache_dirs", [], "the directories 3.2 expects cleared (none: 3.2 is N/A)"),
            Entry(
                "log_timezone", SERVICE.log_timezone, "Odoo writes its log timestamps in UTC unless the server runs with another TZ"
            ),
        ],
    )


def _expected(code: CodeFacts) -> Section:
    manifest = code.manifest_path
    listed = [f for f in code.changed if f != manifest or not code.manifest_version_only]
    notes = {f: f"outside {code.module_dir}/: the same pull deploys it" for f in listed if not code.in_module(f)}
    if manifest in listed:
        notes[manifest] = code.manifest_note
    why = f"`git diff --name-only {code.from_label}..{code.to_label}`: the files 2.2 expects the pull to change"
    if manifest in code.changed and code.manifest_version_only:
        why += f";\n{code.manifest_note}: accepted without listing it (manifest_policy)"
    if not code.changed:
        why += f"\n{CHECK_MARK} no file changes between the two refs"
    return Section(
        "expected",
        [Entry("changed_files", listed, why, notes), Entry("manifest_policy", "version-only")],
        "relative to the repository root",
    )


def _thresholds() -> Section:
    return Section(
        "thresholds",
        [
            Entry("min_posted_payments", THRESHOLDS.min_posted_payments, "0.1: more posted payments and invoices than these"),
            Entry("min_posted_invoices", THRESHOLDS.min_posted_invoices),
            Entry("min_free_disk_gb", THRESHOLDS.min_free_disk_gb, "P.4: free space on the backup, code and log volumes"),
            Entry("min_manager_members", THRESHOLDS.min_manager_members, "P.6, 0.4, 4.6: active members of the manager group"),
            Entry("workflow_window_days", THRESHOLDS.workflow_window_days),
            Entry("log_tail_lines", THRESHOLDS.log_tail_lines, "phase 6 reads the log since phase 0 (0) or its last N lines"),
            Entry("max_log_errors", THRESHOLDS.max_log_errors),
        ],
    )


def _groups(code: CodeFacts, dbf: DatabaseFacts, first_install: bool) -> Section:
    if dbf.groups:
        listing = "\n".join(f"  {g.xmlid}  ({g.name})" for g in dbf.groups)
        xmlids = [g.xmlid for g in dbf.groups]
        source = f"The groups of {code.module} in {dbf.name} (ir_model_data), by XML id:\n{listing}"
    elif first_install and code.declared_groups:
        xmlids = list(code.declared_groups)
        listing = "\n".join(f"  {x}" for x in xmlids)
        source = f"The groups {code.module}'s XML declares at {code.to_label} (not in {dbf.name} before its install):\n{listing}"
    else:
        # the template's group items would judge groups the deployment does not have: left out of the runbook
        return Section(
            "groups",
            [],
            f"{code.module} has no group in {dbf.name} (ir_model_data): no [groups], so P.6, 0.4 and 4.6 are not in this\n"
            f'runbook. To check a group\'s active members, add:\n[groups]\nmanager = "<module>.<group xml id>"',
            omitted=True,
        )
    chosen = roles(xmlids, code.module)
    return Section(
        "groups",
        [Entry(role, xmlid, why) for role, (xmlid, why) in chosen.items()],
        f"{source}\nThe roles P.6, 0.4, 4.6 and the guards read:",
    )


def _reconciliation(dbf: DatabaseFacts) -> Section:
    line, header = RECONCILIATION_TABLES
    if not dbf.reconciliation_tables:
        return Section(
            "reconciliation",
            [],
            f"{dbf.name} has no {line} / {header} (not stock Odoo): no [reconciliation], so 0.2 and 4.7 are not in\n"
            "this runbook (docs/deploy-toml.md: [reconciliation] to add them)",
            omitted=True,
        )
    return Section(
        "reconciliation",
        [
            Entry("optional", False, f"{dbf.name} has them: their absence later is an error"),
            Entry("table", line),
            Entry("move_column", "move_id"),
            Entry("reconciliation_column", "reconciliation_id"),
            Entry("reconciliation_table", header),
        ],
        "The reconciliation tables 0.2, 4.7 and 5.3 read (not stock Odoo: another module's)",
    )


def _approval() -> Section:
    # the template's values: the shipped deploy.toml's (spec.py has no payment defaults)
    shipped = tomllib.loads(SHIPPED.read_text()).get("approval")
    if shipped is None:
        note = "the database has approval_state, but no [approval] is known: add one (docs/deploy-toml.md) to check 0.1 and 4.5"
        return Section("approval", [], note, omitted=True)
    return Section(
        "approval",
        [Entry("payment_states", list(shipped["payment_states"])), Entry("move_states", list(shipped.get("move_states", [])))],
        f"{CHECK_MARK} account_payment and account_move have approval_state: the values 4.5 accepts (the template's)",
    )


def _signing() -> Section:
    return Section(
        "signing",
        [
            Entry(
                "allowed_signers",
                "",
                "an OpenSSH allowed_signers file (one `principal ssh-ed25519 AAAA...` line per person who may sign);\n"
                "empty: nothing is signed, the log is integrity-checked only (README: Trust model)",
            ),
            Entry("required", True),
        ],
    )


# ------------------------------------------------------------------ commented examples

NOT_GUARDS = ("__manifest__.py", "__init__.py")  # Python files that hold no method
# The shipped example deployment: its [[protect]] sets are the templates init writes, commented.
SHIPPED = Path(__file__).resolve().parents[2] / "deploy.toml"
PROTECT_NOTE = (
    "Protected data (phase 5): each set is fingerprinted at phase 0 and compared after the deployment, naming the\n"
    "changed, added and removed ids; {payments}, {payment_state}, ... are the Odoo version's payment columns\n"
    "(every key: docs/deploy-toml.md)."
)


def _guards_example(code: CodeFacts) -> Example:
    prefix = f"{code.module_dir}/"
    python = [f[len(prefix) :] for f in code.changed if f.startswith(prefix) and f.endswith(".py") and not f.endswith(NOT_GUARDS)]
    file = python[0] if python else "models/<model>.py"
    toml = f"""
[[guards]]
item = "4.2"
file = "{file}"
function = "Class.method"
description = "What the guard protects"
"""
    return Example(
        "4.2-4.4: the methods of the deployed code that must guard the data (N/A until declared); file is relative to\n"
        f"the module's directory. Python files this deployment changes: {', '.join(python) or 'none'}",
        toml,
    )


CHECKS_EXAMPLE = Example(
    "An item of your own decided by one read-only query (docs/write-your-own-check.md)",
    """
[[checks]]
item = "4.20"
title = "The module's groups are still there"
sql = "SELECT count(*) FROM ir_model_data WHERE module = %(module)s AND model = 'res.groups'"
expect = ">= baseline"
severity = "medium"
""",
)

WAIVERS_EXAMPLE = Example(
    "Failures accepted in advance: a TOML file of [[waivers]] entries (item, justification, approved_by,\n"
    "expires = 2099-12-31, run), relative to this file (docs/write-your-own-check.md)",
    """
[waivers]
file = "waivers.toml"
""",
)


def _inline(value: Any) -> str:
    """A value of a shipped [[protect]] entry: a multi-line string as one, a table inline."""
    if isinstance(value, str) and "\n" in value and '"""' not in value and "\\" not in value:
        return f'"""\n{value}"""'  # the newline after the opening quotes is not part of the string
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{json.dumps(k)} = {_inline(v)}" for k, v in value.items()) + " }" if value else "{}"
    return tomlwrite.value(value)


def shipped_sets(path: Path) -> list[dict[str, Any]]:
    """The [[protect]] entries of the shipped example (deploylog's own deploy.toml); [] when it declares none."""
    try:
        raw = tomllib.loads(path.read_text())
    except (OSError, tomllib.TOMLDecodeError):
        return []
    sets = raw.get("protect", [])
    return [s for s in sets if isinstance(s, dict)] if isinstance(sets, list) else []


def _shipped_example(dbf: DatabaseFacts, sets: list[dict[str, Any]]) -> Example:
    blocks = ["\n".join(["[[protect]]", *(f"{k} = {_inline(v)}" for k, v in entry.items())]) for entry in sets]
    line, _ = RECONCILIATION_TABLES
    has = "has" if dbf.reconciliation_tables else "has no"
    note = (
        f"{PROTECT_NOTE}\nThe shipped example's sets ({SHIPPED.name} of deploylog, a payment module's), to uncomment and adapt;\n"
        f"{dbf.name} {has} {line}"
    )
    return Example(note, "\n\n".join(blocks))


def _protect_examples(dbf: DatabaseFacts) -> list[Example]:
    """The shipped example's protected sets in [[protect]] form, commented; a generic one without it."""
    shipped = shipped_sets(SHIPPED)
    if shipped:
        return [_shipped_example(dbf, shipped)]
    # no shipped example at hand (deploylog installed without its checkout): one set of the table form
    sets = """
[[protect]]
name = "confirmed_orders"
item = "5.1"
title = "Confirmed sale orders"
severity = "critical"
table = "sale_order"
columns = ["name", "state", "amount_total", "partner_id", "date_order"]
where = "t.state = 'sale'"
"""
    return [Example(f"{PROTECT_NOTE}\nAn example set (a sales deployment's), to uncomment and adapt", sets)]


def examples(code: CodeFacts, dbf: DatabaseFacts) -> list[Example]:
    return [_guards_example(code), CHECKS_EXAMPLE, WAIVERS_EXAMPLE, *_protect_examples(dbf)]


# ------------------------------------------------------------------ the draft


def _header(code: CodeFacts, dbf: DatabaseFacts, output: Path) -> str:
    before = code.before.version if code.before else "(not in the code)"
    state = f"{dbf.module_state} at {dbf.module_version}" if dbf.module_state else "not in ir_module_module"
    return "\n".join(
        [
            f"deploy.toml for {code.module} {before} -> {code.after.version} on {dbf.name}, written by `deploylog init` from",
            f"  the code:     {code.repo} {code.range}",
            f"  the database: {dbf.name}, {dbf.odoo.label}; {code.module} {state}",
            f'Read every "{CHECK_MARK}" comment before the first run; every key: docs/deploy-toml.md. Then:',
            f"  pytest -m preflight --deploy-config={output}",
            f"  pytest -m phase0 --deploy-config={output}",
        ]
    )


def draft(code: CodeFacts, dbf: DatabaseFacts, dsn: str, first_install: bool, output: Path) -> Draft:
    """The deploy.toml for the deployment the code and the database describe."""
    sections = [
        _deployment(code, dbf, first_install),
        _database(dbf, dsn),
        _paths(code),
        _service(),
        _expected(code),
        _thresholds(),
        _groups(code, dbf, first_install),
        _reconciliation(dbf),
    ]
    if dbf.approval_columns:  # the template's approval workflow (4.5): only where the database has it
        sections.append(_approval())
    sections.append(_signing())
    return Draft(_header(code, dbf, output), sections, examples(code, dbf))
