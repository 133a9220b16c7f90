"""deploy.toml -> a typed, validated Spec: one frozen dataclass per section.

The dataclasses below are the single description of every key: its type
(from the annotation), whether it is required (no default) and its default.
Loading rejects unknown keys, wrong types and missing required keys with one
message naming the key, so a typo in a change window never silently falls
back to a default. Lists are read into tuples: a Spec cannot change once built.

Each dataclass's docstring says what its section is for and, one line per key
(`key: meaning`), what every key means: docs/deploy-toml.md is generated from
them (`python -m deploylog.specdoc`), and a self-test fails when a key has no line.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import difflib
import hashlib
import re
import tomllib
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Union

from deploylog import catalogue, expectation, fragments
from deploylog.errors import DeploylogError


class SpecError(DeploylogError):
    """deploy.toml (or an override) is invalid; the message names the key."""


@dataclass(frozen=True)
class Deployment:
    """[deployment]: the change this log records.

    module: technical name of the Odoo module being deployed, the primary one when [[modules]] lists more (its row in
        ir_module_module, its directory in the checkout); required unless [[modules]] is given (then empty: the first
        [[modules]] entry is the primary)
    expected_version: the module version the deployment installs (4.1 and 2.4 compare with it); required unless
        [[modules]] declares the module's versions
    title: a human title shown in the log's header
    previous_version: the version installed before the deployment (1.2 checks the code archive holds it; shown in the header)
    id: the deployment's id, which names its baseline and state files; empty: <database>-<module>-<expected_version>
        (several modules: each <module>-<expected_version>, joined by +). A new attempt after a started deployment
        needs a new id
    branch: the git branch the checkout must be on (P.3, 2.1); empty: not checked
    first_install: the module is not installed before this deployment (declared, never guessed):
        phase 0 accepts it absent or uninstalled
    """

    module: str = ""  # required unless [[modules]] names the modules
    expected_version: str = ""
    title: str = ""
    previous_version: str = ""
    id: str = ""  # default: <database>-<module>-<expected_version>
    branch: str = ""  # expected git branch of the checkout
    # The module is absent (or uninstalled) before this deployment: declared, never guessed.
    first_install: bool = False


@dataclass(frozen=True)
class Database:
    """[database]: the Odoo database, read through one read-only snapshot.

    name: the Odoo database's name; the run refuses a connection to any other database
    dsn: libpq conninfo or URI; empty: the PG* variables and ~/.pgpass (never put a password here)
    statement_timeout_ms: the longest a statement may run (server-side statement_timeout)
    lock_timeout_ms: the longest a statement waits for a lock held by another session
    connect_timeout_s: the longest the connection may take
    verify_restore: 1.1 and `deploylog backup --verify-restore` restore the dump into a scratch database
        and compare its counts with the baseline (needs CREATE DATABASE)
    restore_dsn: the server and role allowed to create that scratch database; empty: dsn
    """

    name: str
    dsn: str = ""  # libpq conninfo or URI; empty = PG* variables / ~/.pgpass
    statement_timeout_ms: int = 60000
    lock_timeout_ms: int = 2000
    connect_timeout_s: int = 10
    # 1.1 deep mode: restore the dump into a scratch database and compare counts with the baseline
    verify_restore: bool = False
    restore_dsn: str = ""  # server/role allowed to CREATE DATABASE for it; empty = dsn


BACKUP_FORMATS = ("directory", "custom")
COMPRESSION = re.compile(r"^(auto|default|none|(?P<method>gzip|lz4|zstd)(:(?P<level>\d{1,2}))?)$")


@dataclass(frozen=True)
class Backup:
    """[backup]: how `deploylog backup` dumps the database; 1.1 and P.2 verify either format.

    format: "directory" (pg_dump -Fd: one file per table, `jobs` tables at once, a SHA256SUMS manifest of
        its files) or "custom" (pg_dump -Fc, the template's single file)
    jobs: processes that dump (directory format) and restore (the restore check) tables at once, each one
        database connection; 0: the CPUs of the machine that runs pg_dump / pg_restore, at most 8
    compression: "auto" (the fastest the installed pg_dump has: zstd:1, else lz4, else gzip:1), "default"
        (pg_dump's own, gzip level 6 for the custom format), "none", or METHOD[:LEVEL] with METHOD gzip, lz4
        or zstd (lz4 and zstd need pg_dump 16 or later built with them)
    required_tables: the tables whose data 1.1 and P.2 require in the dump; empty: every table a [[protect]]
        set names with `table` (a set's `query` is not read for names: list its tables here)
    """

    format: str = "directory"
    jobs: int = 0
    compression: str = "auto"
    required_tables: tuple[str, ...] = ()


@dataclass(frozen=True)
class Paths:
    """[paths]: files and directories; relative paths are relative to deploy.toml itself.

    repo: the git checkout (addons repository) that holds the module, on every Odoo host
    module_dir: the module's directory; empty: <repo>/<module>
    backup_dir: where phase 1's dump, module archive and snapshot marker are written and looked for
    log_file: the Odoo server log phase 6 reads
    baseline_dir: where phase 0 writes the baseline (<deployment id>.json and its row files)
    report_dir: where the execution log (Markdown, HTML, JSON) and its state are written
    pg_bin_dir: where pg_dump and pg_restore are; empty: the PATH
    tests: directories (or files) of the deployment's own tests (docs/write-your-own-check.md); they join
        every run that collects the suite's default test paths (a run given explicit paths collects only those)
    """

    repo: str = ""  # git checkout (addons repository) holding the module
    module_dir: str = ""  # default: <repo>/<module>
    backup_dir: str = "/var/odoo/backups"
    log_file: str = ""
    baseline_dir: str = "baseline"
    report_dir: str = "reports"
    pg_bin_dir: str = ""  # where pg_dump/pg_restore live; empty = PATH
    tests: tuple[str, ...] = ()  # the deployment's own test files or directories


SERVICE_MANAGERS = ("systemd", "process", "pidfile", "none")


@dataclass(frozen=True)
class Service:
    """[service]: the Odoo service on each host (phase 3, P.5).

    manager: how the service is run and observed: systemd, process (by process name), pidfile, or none
    name: the systemd unit
    process_name: the process name (manager = "process")
    pidfile: the pid file (manager = "pidfile")
    health_url: a URL that answers 200 when Odoo is up (e.g. /web/health); empty: not checked
    cache_dirs: directories 3.2 expects gone or empty after the cache is cleared
    http_timeout_s: the longest the health URL may take to answer
    log_timezone: the zone of the Odoo log's timestamps (Odoo logs in UTC)
    """

    manager: str = "systemd"  # systemd | process | pidfile | none
    name: str = "odoo.service"
    process_name: str = "odoo-bin"
    pidfile: str = ""
    health_url: str = ""
    cache_dirs: tuple[str, ...] = ()
    http_timeout_s: int = 5
    log_timezone: str = "UTC"  # zone of the log's timestamps (Odoo logs in UTC)


MANIFEST_POLICIES = ("version-only", "listed")


@dataclass(frozen=True)
class Expected:
    """[expected]: what the deployment changes in the code (2.2).

    changed_files: the files the deployment changes, relative to the repository root
    manifest_policy: how __manifest__.py is treated when not listed: "version-only" accepts it when the version
        is its only change, "listed" requires it in changed_files
    """

    changed_files: tuple[str, ...] = ()
    # how __manifest__.py is treated when it is not in changed_files:
    # "version-only" accepts it when the version is its only change.
    manifest_policy: str = "version-only"


@dataclass(frozen=True)
class Thresholds:
    """[thresholds]: the numbers the template's items compare with.

    min_posted_payments: 0.1 expects more posted payments than this
    min_posted_invoices: 0.1 expects more posted invoices than this
    min_free_disk_gb: P.4 expects more free space (GB) on the backup, code and log volumes
    min_manager_members: P.6 and 4.6 expect at least this many active members in the manager group
    workflow_window_days: 4.5 reads the payments created in the last N days
    log_tail_lines: phase 6 reads the log since phase 0 (0) or its last N lines (the template's tail -N)
    max_log_errors: 6.1 accepts up to this many ERROR/CRITICAL lines
    """

    min_posted_payments: int = 100
    min_posted_invoices: int = 50
    min_free_disk_gb: float = 10
    min_manager_members: int = 1
    workflow_window_days: int = 30
    log_tail_lines: int = 0  # 0 = time window from the baseline, N = template's "tail -N"
    max_log_errors: int = 0


@dataclass(frozen=True)
class Groups:
    """[groups]: the module's security groups, by XML id. Without this section P.6, 0.4 and 4.6 are not in the runbook.

    manager: XML id of the manager group (P.6 and 4.6 count its active members; 0.4 checks it too)
    reviewer: XML id of the reviewer group (0.4 checks it exists); empty: not checked
    approver: XML id of the approver group (0.4 checks it exists); empty: not checked
    """

    manager: str
    reviewer: str = ""
    approver: str = ""


@dataclass(frozen=True)
class Reconciliation:
    """[reconciliation]: the reconciliation tables 0.2, 4.7 and 5.3 read. Without this section 0.2 and 4.7 are not in the runbook.

    optional: the tables may be absent (0.2, 4.7, 5.3 are then N/A, with the reason); otherwise absent is an error
    table: the reconciliation line table
    move_column: its column referencing account_move
    reconciliation_column: its column referencing the reconciliation table
    reconciliation_table: the reconciliation table; empty: the lines reference none
    """

    # Not stock Odoo: the tables come from another module. Only when `optional` is true may
    # their absence make 0.2, 4.7 and 5.3 N/A; otherwise an absent table is an error.
    table: str
    optional: bool = False
    move_column: str = "move_id"
    reconciliation_column: str = "reconciliation_id"
    reconciliation_table: str = ""


@dataclass(frozen=True)
class Approval:
    """[approval]: the module's payment approval workflow. Without this section 0.1 and 4.5 are not in the runbook.

    payment_states: the values account_payment.approval_state may take (4.5)
    move_states: the values account_move.approval_state may take
    """

    payment_states: tuple[str, ...]
    move_states: tuple[str, ...] = ()


@dataclass(frozen=True)
class Invoices:
    """[invoices]: what counts as an invoice (0.1, 5.2).

    move_types: the account_move.move_type values counted as invoices
    """

    move_types: tuple[str, ...] = ("out_invoice", "out_refund", "in_invoice", "in_refund")


@dataclass(frozen=True)
class Signing:
    """[signing]: who may sign this deployment's log, and the key this operator signs with (README: trust model).

    allowed_signers: OpenSSH allowed_signers file (`principal ssh-ed25519 AAAA...` per line) that verify checks
        every signature against; empty: nothing is signed and the log is integrity-checked only, not tamper-proof
    key: the key that signs this operator's runs, records and sign-offs: a private key file without passphrase,
        or a .pub whose private half is in ssh-agent; empty: the ssh-agent's key that allowed_signers lists
    principal: the identity to sign as, as allowed_signers names it; empty: the principal allowed_signers lists for the key
    required: true: an event that cannot be signed is not recorded (one error line) and verify fails an unsigned
        event; false: it is recorded unsigned, saying why, and verify reports it unsigned
    """

    allowed_signers: str = ""
    key: str = ""
    principal: str = ""
    required: bool = True

    @property
    def enabled(self) -> bool:
        return bool(self.allowed_signers)


GUARD_ITEMS = ("4.2", "4.3", "4.4")


@dataclass(frozen=True)
class Guard:
    """[[guards]]: the method of the deployed code that must guard an item (4.2-4.4), one entry per item;
    an item no entry names is not in the runbook.

    item: the item it guards: 4.2, 4.3 or 4.4
    file: the Python file, relative to the module directory
    function: Class.method or function name
    description: what the guard protects (shown in the log)
    module: the deployed module whose directory holds file; empty: [deployment] module
    """

    item: str  # 4.2 / 4.3 / 4.4
    file: str  # relative to the module directory
    function: str  # Class.method or function name
    description: str = ""
    module: str = ""  # one of the deployed modules; empty = the primary


@dataclass(frozen=True)
class Module:
    """[[modules]]: several modules deployed together, each with its versions; without it, [deployment] names the one module.
    [deployment] module is the primary one (its directory may be [paths] module_dir, the guards' default, the first
    in the deployment id): when no entry names it, it is deployed too, first, with [deployment]'s versions; when an
    entry names it, its versions may be written in either place, and must agree where written in both; when
    [deployment] module is empty, the first entry is the primary. Every other module's directory is `<repo>/<name>`.
    Per module: 0.3 records its state and version (absent or uninstalled only on a declared first install), 4.1
    checks it installed at its expected version, 2.4 reads its manifest, 1.2 checks its archive, 4.9 its checksum;
    database-wide, no module of the database may be left to upgrade, to install or to remove (0.3 before, 4.1 after).

    name: technical name of the module (its row in ir_module_module, its directory <repo>/<name>)
    expected_version: the version it is at after the deployment (4.1 compares latest_version, 2.4 the manifest)
    previous_version: the version installed before (1.2 checks its code archive holds it); empty: not checked
    first_install: the module is not installed before this deployment (declared, never guessed): phase 0 accepts it
        absent or uninstalled, 1.2 needs no archive of it
    """

    name: str
    expected_version: str
    previous_version: str = ""
    first_install: bool = False


RETURNS = ("value", "rows")


@dataclass(frozen=True)
class Check:
    """[[checks]]: an item of the deployment's own, decided by one read-only SQL query (docs/write-your-own-check.md).

    item: its log item id, <phase>.<n> (e.g. "4.8"), not a built-in id; the phase is the id's prefix
    title: its title in the log
    sql: one read-only query, run in the session's snapshot; named parameters %(name)s come from params and
        the deployment's values (module, expected_version, previous_version, database, deployment_id); write a
        literal % as %% when the query uses parameters
    expect: what must hold: == x, != x, > x, >= x, < x, <= x (x a number, a 'quoted string', true or false),
        between a and b, or an operator with baseline (== baseline: the value phase 0 recorded)
    returns: "value" (the query returns one row of one column, compared) or "rows" (the row count is compared
        and the rows are pasted as evidence)
    params: values for the query's named parameters (a TOML table)
    phase: the phase, when written: must be the id's prefix
    severity: critical, high, medium or low (quality score, overall status, verdict)
    expected: the Expected line shown in the log; empty: made from returns and expect
    aspect: the quality-score aspect; empty: the phase's (docs/log-rules.md)
    """

    item: str
    title: str
    sql: str
    expect: str
    returns: str = "value"
    params: dict[str, Any] = field(default_factory=dict)
    phase: str = ""
    severity: str = catalogue.DEFAULT_SEVERITY
    expected: str = ""
    aspect: str = ""

    @property
    def expectation(self) -> expectation.Expectation:
        return expectation.parse(self.expect)

    @property
    def expected_text(self) -> str:
        subject = "row count" if self.returns == "rows" else "value"
        return self.expected or f"{subject} {self.expect}"


PROTECT_ORIGIN = "deploy.toml [[protect]]"
PROTECT_EXPECTED = "Post - baseline = 0 and fingerprint unchanged"
# A set's name names its baseline entry and its row file; a count's name its figure.
SET_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
# table and id: a name as written in SQL without quotes
IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_$]*$")


@dataclass(frozen=True)
class Protect:
    """[[protect]]: a set of rows the deployment must not change, fingerprinted at phase 0 and compared in phase 5
    (docs/write-your-own-check.md, "Protect your own data"). The rows are a `table` (with `columns`, optional
    `join` and `where`) or a `query`. The SQL may use the fragments {payments}, {payment_state}, {payment_name},
    {payment_date}, {posted_payment} (the Odoo version's payment columns: the journal entry's up to Odoo 17, the
    payment's own from 18) and {reconciliation.table}, {reconciliation.move_column},
    {reconciliation.reconciliation_column}, {reconciliation.reconciliation_table} ([reconciliation], quoted);
    a literal brace is {{ or }}. The shipped deploy.toml feeds 5.4 with two sets, one per definition of a
    reconciled payment (Odoo's is_reconciled; the module's reconciliation lines, optional like their table),
    rather than one set with two sub-counts: a set reading an absent table is N/A as a whole.

    name: the set's name, [a-z][a-z0-9_]*, unique: it names the baseline entry and its row file
    item: the phase-5 item the set feeds, 5.<n> (e.g. "5.1"); several sets may feed one item, which passes
        when all of them are unchanged
    title: the item's title in the log (every set feeding an item gives the same title, severity and expected)
    severity: critical, high, medium or low (quality score, overall status, verdict)
    expected: the Expected line shown in the log; empty: "Post - baseline = 0 and fingerprint unchanged"
    optional: true: the item is N/A, with the reason, when a table the set reads does not exist (an absent
        [reconciliation] table, a `table` or a relation the query names); false: that is an ERROR naming the entry
    table: the rows: a table on the search_path (or {reconciliation.table}), alias t in columns, join and where;
        give table or query, not both
    id: with table: the integer column that identifies a row (its bucket and its id in the diff)
    columns: with table: the columns (or SQL expressions over t and the joined tables) hashed with the id; a
        change in any of them changes the fingerprint and names the row
    join: with table: joins after `FROM table t`, e.g. "LEFT JOIN account_move m ON m.id = t.move_id"
    where: with table: the condition a row must meet to belong to the set, e.g. "t.state = 'posted'"
    query: the rows: a SELECT whose first column is the integer row id (named id in counts) and whose other
        columns are hashed with it; give table or query, not both
    params: values for the SQL's named parameters %(name)s, as in [[checks]]; the deployment's own values
        (module, expected_version, previous_version, database, deployment_id) are there too
    counts: named sub-counts, name -> a boolean SQL expression over the set's output columns (e.g.
        { posted = "state = 'posted'" }): counted in the same scan as the fingerprint, recorded at phase 0
        and compared after like the total
    """

    name: str
    item: str
    title: str
    severity: str = catalogue.DEFAULT_SEVERITY
    expected: str = ""
    optional: bool = False
    table: str = ""
    id: str = "id"
    columns: tuple[str, ...] = ()
    join: str = ""
    where: str = ""
    query: str = ""
    params: dict[str, Any] = field(default_factory=dict)
    counts: dict[str, str] = field(default_factory=dict)

    @property
    def expected_text(self) -> str:
        return self.expected or PROTECT_EXPECTED

    @property
    def templates(self) -> dict[str, str]:
        """key -> the SQL text written under it (fragments and parameters allowed in each)."""
        texts = {"table": self.table, "join": self.join, "where": self.where, "query": self.query}
        texts.update({f"columns[{n}]": c for n, c in enumerate(self.columns)})
        texts.update({f"counts.{k}": v for k, v in self.counts.items()})
        return {k: v for k, v in texts.items() if v}


@dataclass(frozen=True)
class Waivers:
    """[waivers]: failures accepted in advance, in Chef InSpec's manner (docs/write-your-own-check.md).

    file: the waivers file (TOML, [[waivers]] entries); relative to deploy.toml; empty: no waivers
    """

    file: str = ""


# [section] name -> its dataclass; [[guards]], [[checks]], [[protect]] and [[modules]] are the arrays of tables.
# The OPTIONAL sections are None in a Spec when deploy.toml does not have them: the items that need
# them (catalogue.toml `needs`) are then not in the deployment's runbook (runbook.py).
SECTIONS: dict[str, type] = {
    "deployment": Deployment,
    "database": Database,
    "paths": Paths,
    "backup": Backup,
    "service": Service,
    "expected": Expected,
    "thresholds": Thresholds,
    "groups": Groups,
    "reconciliation": Reconciliation,
    "approval": Approval,
    "invoices": Invoices,
    "waivers": Waivers,
    "signing": Signing,
}
ARRAYS: dict[str, type] = {"guards": Guard, "checks": Check, "protect": Protect, "modules": Module}
OPTIONAL = ("groups", "reconciliation", "approval")


# The default deployment id names files (baseline, state): beyond this, several modules are summed up.
MAX_ID_MODULES = 150


@dataclass(frozen=True)
class Spec:
    """The validated deployment description."""

    source: str
    deployment: Deployment
    database: Database
    paths: Paths = field(default_factory=Paths)
    backup: Backup = field(default_factory=Backup)
    service: Service = field(default_factory=Service)
    expected: Expected = field(default_factory=Expected)
    thresholds: Thresholds = field(default_factory=Thresholds)
    groups: Groups | None = None
    reconciliation: Reconciliation | None = None
    approval: Approval | None = None
    invoices: Invoices = field(default_factory=Invoices)
    waivers: Waivers = field(default_factory=Waivers)
    signing: Signing = field(default_factory=Signing)
    guards: tuple[Guard, ...] = ()
    checks: tuple[Check, ...] = ()
    protect: tuple[Protect, ...] = ()
    modules: tuple[Module, ...] = ()  # the [[modules]] entries as declared; all_modules: every deployed module

    @property
    def deployment_id(self) -> str:
        if self.deployment.id:
            return self.deployment.id
        named = "+".join(f"{m.name}-{m.expected_version}" for m in self.all_modules)
        if len(named) > MAX_ID_MODULES:  # a file name: the primary, how many more, and a digest of them all
            first = self.all_modules[0]
            digest = hashlib.sha256(named.encode()).hexdigest()[:12]
            named = f"{first.name}-{first.expected_version}+{len(self.all_modules) - 1}-more-{digest}"
        return f"{self.database.name}-{named}"

    @property
    def all_modules(self) -> tuple[Module, ...]:
        """Every module this deployment deploys, the primary ([deployment] module) first."""
        dep = self.deployment
        primary = Module(dep.module, dep.expected_version, dep.previous_version, dep.first_install)
        return (primary, *(m for m in self.modules if m.name != dep.module))

    def module_key(self, name: str, key: str) -> str:
        """Where deploy.toml declares a module's key, for a message: `[deployment] first_install`, `modules[1].first_install`."""
        index = next((n for n, m in enumerate(self.modules) if m.name == name), None)
        if index is not None:
            return f"modules[{index}].{key}"
        return f"[deployment] {'module' if key == 'name' else key}"

    def module_dir_of(self, name: str) -> Path:
        """A deployed module's directory: [paths] module_dir for the primary module when set, else <repo>/<name>."""
        if name == self.deployment.module and self.paths.module_dir:
            return Path(self.paths.module_dir)
        return Path(self.paths.repo) / name

    @property
    def module_dir(self) -> Path:
        return self.module_dir_of(self.deployment.module)

    @property
    def baseline_path(self) -> Path:
        """Where phase 0 keeps this deployment's baseline (its row files beside it, `.rows`)."""
        return Path(self.paths.baseline_dir) / f"{self.deployment_id}.json"

    def guard_module(self, guard: Guard) -> str:
        """The module whose directory holds a guard's file."""
        return guard.module or self.deployment.module

    def guard_for(self, item: str) -> Guard | None:
        """The [[guards]] entry of an item, or None."""
        return next((g for g in self.guards if g.item == item), None)

    @property
    def query_params(self) -> dict[str, str]:
        """The deployment's values a [[checks]] query may name as %(name)s."""
        return {
            "module": self.deployment.module,
            "expected_version": self.deployment.expected_version,
            "previous_version": self.deployment.previous_version,
            "database": self.database.name,
            "deployment_id": self.deployment_id,
        }

    def as_dict(self) -> dict[str, Any]:
        """The spec as plain TOML-like data (tuples as lists), e.g. to write a derived deploy.toml."""
        data: dict[str, Any] = {}
        for name in SECTIONS:
            if getattr(self, name) is None:  # an optional section deploy.toml does not have
                continue
            data[name] = {k: list(v) if isinstance(v, tuple) else v for k, v in dataclasses.asdict(getattr(self, name)).items()}
        data["guards"] = [dataclasses.asdict(g) for g in self.guards]
        data["checks"] = [dataclasses.asdict(c) for c in self.checks]
        data["protect"] = [{k: list(v) if isinstance(v, tuple) else v for k, v in dataclasses.asdict(p).items()} for p in self.protect]
        data["modules"] = [dataclasses.asdict(m) for m in self.modules]
        return data


SectionT = typing.TypeVar("SectionT")


def given(section: SectionT | None, name: str) -> SectionT:
    """An optional section the caller needs; SpecError when deploy.toml does not have it.

    The items that need a section are not in a runbook without it (runbook.py), so
    this is raised only by code called outside the runbook (a test, another tool).
    """
    if section is None:
        raise SpecError(f"deploy.toml has no [{name}]: the items that need it are not in this deployment's runbook")
    return section


# ------------------------------------------------------------------ validation


def _accepted(annotation: Any) -> tuple[tuple[type, ...], bool]:
    """(accepted Python types, is a list of strings) for a field annotation."""
    origin = typing.get_origin(annotation)
    if origin is tuple:
        return (list, tuple), True  # a TOML array; a tuple when a Spec's own values are built again
    if origin is dict:
        return (dict,), False
    if origin in (Union, types.UnionType):
        return tuple(typing.get_args(annotation)), False
    if annotation is float:  # TOML writes 10 for 10.0: accept both
        return (int, float), False
    return (annotation,), False


def _type_name(accepted: tuple[type, ...], is_list: bool) -> str:
    return "a list of strings" if is_list else " or ".join(t.__name__ for t in accepted)


def _check_type(key: str, value: Any, annotation: Any) -> Any:
    accepted, is_list = _accepted(annotation)
    # bool is an int in Python; a threshold written as `true` is a mistake.
    if isinstance(value, bool) and bool not in accepted:
        raise SpecError(f"{key}: expected {_type_name(accepted, is_list)}, got boolean {value!r}")
    if not isinstance(value, accepted):
        raise SpecError(f"{key}: expected {_type_name(accepted, is_list)}, got {type(value).__name__} {value!r}")
    if is_list:
        assert isinstance(value, list | tuple)
        if not all(isinstance(v, str) for v in value):
            raise SpecError(f"{key}: expected a list of strings, got {value!r}")
        return tuple(value)
    if isinstance(value, dt.datetime) and dt.datetime not in accepted:  # a TOML datetime is a date too
        raise SpecError(f"{key}: expected a date (YYYY-MM-DD), got the date and time {value.isoformat()}")
    return value


def _unknown(key: str, known: list[str]) -> SpecError:
    hint = difflib.get_close_matches(key.rsplit(".", 1)[-1], known, n=1)
    suffix = f" (did you mean {hint[0]!r}?)" if hint else ""
    return SpecError(f"unknown key {key!r}{suffix}; known: {', '.join(known)}")


def table(name: str, raw: Any, cls: type) -> Any:
    """One validated section dataclass from its TOML table."""
    if not isinstance(raw, dict):
        raise SpecError(f"{name}: expected a table, got {type(raw).__name__}")
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    for key in raw:
        if key not in fields:
            raise _unknown(f"{name}.{key}", list(fields))
    values: dict[str, Any] = {}
    for key, spec_field in fields.items():
        if key in raw:
            values[key] = _check_type(f"{name}.{key}", raw[key], hints[key])
        elif spec_field.default is dataclasses.MISSING and spec_field.default_factory is dataclasses.MISSING:
            raise SpecError(f"missing required key {name}.{key}")
    return cls(**values)


def build(raw: dict[str, Any], source: str = "<dict>") -> Spec:
    """Validate a parsed TOML document and return the Spec."""
    known = [*SECTIONS, *ARRAYS]
    for name in raw:
        if name not in known:
            raise _unknown(name, known)
    sections = {name: table(name, raw.get(name, {}), cls) for name, cls in SECTIONS.items() if name in raw or name not in OPTIONAL}
    arrays: dict[str, Any] = {name: array(name, raw.get(name, []), cls) for name, cls in ARRAYS.items()}
    deployment = _primary(sections["deployment"], arrays["modules"])
    spec = Spec(source=source, **{**sections, "deployment": deployment}, **arrays)
    _check_values(spec)
    return spec


def _primary(dep: Deployment, modules: tuple[Module, ...]) -> Deployment:
    """[deployment] completed with its primary module's name and versions.

    Without [[modules]], [deployment] module and expected_version are the one module. With [[modules]]:
    [deployment] module empty -> the first entry is the primary; naming an entry -> that entry is the primary
    (a version key written in both must agree; one written once holds for both); naming another module -> it is
    deployed too, first, with [deployment]'s versions.
    """
    if not dep.module and not modules:
        raise SpecError("missing required key deployment.module (or declare the modules with [[modules]])")
    if not dep.module:
        for key in ("expected_version", "previous_version", "first_install"):
            if getattr(dep, key):
                raise SpecError(
                    f"deployment.{key}: set, but deployment.module is empty: declare the versions in [[modules]] "
                    "(the first entry is the primary module), or name the module in deployment.module"
                )
        entry = modules[0]
    else:
        found = [(n, m) for n, m in enumerate(modules) if m.name == dep.module]
        if not found:
            if not dep.expected_version:
                raise SpecError("missing required key deployment.expected_version")
            return dep
        index, entry = found[0]
        for key in ("expected_version", "previous_version"):
            mine, theirs = getattr(dep, key), getattr(entry, key)
            if mine and theirs and mine != theirs:
                raise SpecError(
                    f"deployment.{key}: {mine!r}, but modules[{index}].{key} (the same module, {dep.module}) is {theirs!r}: "
                    "declare a module's versions once"
                )
    return dataclasses.replace(
        dep,
        module=entry.name,
        expected_version=entry.expected_version or dep.expected_version,
        previous_version=entry.previous_version or dep.previous_version,
        first_install=entry.first_install or dep.first_install,
    )


def array(name: str, raw: Any, cls: type) -> tuple[Any, ...]:
    """The validated entries of an array of tables ([[name]])."""
    if not isinstance(raw, list):
        raise SpecError(f"{name}: expected an array of tables ([[{name}]])")
    return tuple(table(f"{name}[{n}]", entry, cls) for n, entry in enumerate(raw))


def _one_of(key: str, value: str, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise SpecError(f"{key}: expected {', '.join(allowed[:-1])} or {allowed[-1]}, got {value!r}")


def _check_values(spec: Spec) -> None:
    _one_of("service.manager", spec.service.manager, SERVICE_MANAGERS)
    _one_of("expected.manifest_policy", spec.expected.manifest_policy, MANIFEST_POLICIES)
    for key in ("statement_timeout_ms", "lock_timeout_ms", "connect_timeout_s"):
        if getattr(spec.database, key) <= 0:
            raise SpecError(f"database.{key}: must be > 0 (a check must never wait forever)")
    _one_of("backup.format", spec.backup.format, BACKUP_FORMATS)
    if spec.backup.jobs < 0:
        raise SpecError(f"backup.jobs: expected 0 (the CPUs) or a number of processes, got {spec.backup.jobs}")
    if not COMPRESSION.match(spec.backup.compression):
        raise SpecError(
            f"backup.compression: expected auto, default, none or METHOD[:LEVEL] (METHOD gzip, lz4 or zstd), "
            f"got {spec.backup.compression!r}"
        )
    _check_modules(spec)
    names = [m.name for m in spec.all_modules]
    for n, guard in enumerate(spec.guards):
        _one_of("guards.item", guard.item, GUARD_ITEMS)
        if guard.module and guard.module not in names:
            raise SpecError(f"guards[{n}].module: {guard.module!r} is not a deployed module (deployed: {', '.join(names)})")
    for key in ("key", "principal"):
        if getattr(spec.signing, key) and not spec.signing.enabled:
            raise SpecError(f"signing.{key}: set signing.allowed_signers too (the list of keys allowed to sign)")
    seen: set[str] = set()
    for n, check in enumerate(spec.checks):
        if check.item in seen:
            raise SpecError(f"checks[{n}].item: {check.item} is declared twice")
        seen.add(check.item)
        _check_check(f"checks[{n}]", check, spec)
    _check_protected(spec)


# An Odoo module's technical name (a Python package name); a version: digits first, then dotted parts (17.0.1.0.9).
MODULE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
VERSION = re.compile(r"^[0-9][0-9A-Za-z]*(\.[0-9A-Za-z]+)*$")


def _check_modules(spec: Spec) -> None:
    """Each module: a technical name, declared once, with versions that read as versions."""
    declared = [(f"modules[{n}]", m) for n, m in enumerate(spec.modules)]
    if spec.deployment.module not in (m.name for m in spec.modules):
        declared.insert(0, ("deployment", spec.all_modules[0]))
    seen: dict[str, str] = {}
    for where, module in declared:
        name_key = "deployment.module" if where == "deployment" else f"{where}.name"
        if module.name in seen:
            raise SpecError(f"{name_key}: {module.name!r} is declared twice (also {seen[module.name]})")
        seen[module.name] = where
        if not MODULE_NAME.match(module.name):
            what = "empty: expected" if not module.name else f"{module.name!r} is not"
            raise SpecError(f"{name_key}: {what} a module's technical name (letters, digits and _, as in ir_module_module)")
        for key in ("expected_version", "previous_version"):
            value = getattr(module, key)
            if (value or key == "expected_version") and not VERSION.match(value):
                raise SpecError(f"{where}.{key}: {value!r} is not a version (as Odoo writes it, e.g. 17.0.1.0.9)")


# %(name)s: a named parameter; %s: a positional one ([[checks]] queries take named ones only); %%: a literal %.
PLACEHOLDER = re.compile(r"%(?:\((?P<name>[^)]*)\))?(?P<kind>.)", re.DOTALL)


def query_parameters(sql_text: str) -> list[str]:
    """The named parameters a query uses; SpecError for a positional %s or a stray %."""
    names = []
    for found in PLACEHOLDER.finditer(sql_text):
        name, kind = found.group("name"), found.group("kind")
        if name is None and kind == "%":
            continue
        if name is None or kind != "s":
            text = found.group(0)
            raise SpecError(f"sql: {text!r} is not a named parameter %(name)s (write a literal % as %%)")
        names.append(name)
    return names


def _checked_params(key: str, params: dict[str, Any], spec: Spec) -> dict[str, str]:
    """A [[checks]] / [[protect]] entry's params: none shadows the deployment's own values (returned), none is a table."""
    values = spec.query_params
    for name, value in params.items():
        if name in values:
            raise SpecError(f"{key}.params.{name}: shadows the deployment's own value %({name})s ({values[name]!r})")
        if isinstance(value, dict):
            raise SpecError(f"{key}.params.{name}: expected a string, number, boolean, date or list, got a table")
    return values


def _check_check(key: str, check: Check, spec: Spec) -> None:
    """One [[checks]] entry: an id of one's own, a known expectation, parameters the query can be given."""
    try:
        entry = catalogue.define(check.item, check.title, check.expected, check.severity, check.aspect, "deploy.toml [[checks]]")
    except catalogue.CatalogueError as exc:
        raise SpecError(f"{key}: {exc}") from None
    if entry.builtin:
        raise SpecError(f"{key}.item: {check.item} is a built-in item ({entry.title!r}); declare a check under an id of its own")
    if check.phase and check.phase != entry.phase:
        raise SpecError(f"{key}.phase: {check.phase!r}, but item {check.item} belongs to phase {entry.phase} (its prefix)")
    _one_of(f"{key}.returns", check.returns, RETURNS)
    try:
        expected = check.expectation
    except ValueError as exc:
        raise SpecError(f"{key}.expect: {exc}") from None
    if expected.uses_baseline and entry.phase in ("P", "0"):
        raise SpecError(f"{key}.expect: {check.expect!r} compares with the baseline, which phase 0 records: use it in phases 1-7")
    values = _checked_params(key, check.params, spec)
    try:
        used = query_parameters(check.sql)
    except SpecError as exc:
        raise SpecError(f"{key}.{exc}") from None
    missing = sorted({name for name in used if name not in values and name not in check.params})
    if missing:
        known = ", ".join([*values, *check.params])
        raise SpecError(f"{key}.sql uses %({missing[0]})s, which neither {key}.params nor the deployment defines (known: {known})")


def _check_protected(spec: Spec) -> None:
    """Every [[protect]] entry: a name of its own, a phase-5 item defined alike by all its sets, one form of rows,
    known fragments, parameters the SQL can be given."""
    names: dict[str, int] = {}
    items: dict[str, catalogue.Item] = {}
    checked = {c.item for c in spec.checks}
    for n, entry in enumerate(spec.protect):
        key = f"protect[{n}]"
        if not SET_NAME.match(entry.name):
            raise SpecError(f"{key}.name: {entry.name!r} is not [a-z][a-z0-9_]* (it names a baseline entry and a file)")
        if entry.name in names:
            raise SpecError(f"{key}.name: {entry.name!r} is also protect[{names[entry.name]}]'s name")
        names[entry.name] = n
        try:
            defined = catalogue.define(entry.item, entry.title, entry.expected_text, entry.severity, "", PROTECT_ORIGIN)
            if defined.builtin:
                raise catalogue.CatalogueError(f"item {entry.item} is a built-in item ({defined.title!r})")
            if defined.phase != "5":
                raise catalogue.CatalogueError(f"a protected set feeds a phase-5 item (5.<n>), not {entry.item!r}")
            catalogue.merged([items.setdefault(entry.item, defined), defined])
        except catalogue.CatalogueError as exc:
            raise SpecError(f"{key}.item: {exc}") from None
        if entry.item in checked:
            raise SpecError(f"{key}.item: {entry.item} is also a [[checks]] item; a set feeds an item of its own")
        _check_rows(key, entry)
        _check_sql(key, entry, spec)


def _check_rows(key: str, entry: Protect) -> None:
    """Exactly one form of rows: a table (with id, columns, join, where) or a query."""
    if bool(entry.table) == bool(entry.query):
        raise SpecError(f"{key}: give the rows as table (with columns) or as query, {'not both' if entry.table else 'one of them'}")
    if entry.query:
        for name in ("columns", "join", "where"):
            if getattr(entry, name):
                raise SpecError(f"{key}.{name}: only with table (a query hashes its own columns)")
        if entry.id != "id":
            raise SpecError(f"{key}.id: only with table (a query's first column is the id)")
        return
    tables = ("{reconciliation.table}", "{reconciliation.reconciliation_table}")
    if entry.table not in tables and not IDENTIFIER.match(entry.table):
        raise SpecError(f"{key}.table: {entry.table!r} is not a table name (a name on the search_path, or {' or '.join(tables)})")
    if not IDENTIFIER.match(entry.id):
        raise SpecError(f"{key}.id: {entry.id!r} is not a column name")


def _check_sql(key: str, entry: Protect, spec: Spec) -> None:
    """Known fragments, count names and parameters the SQL can be given."""
    for name, expression in entry.counts.items():
        if not SET_NAME.match(name):
            raise SpecError(f"{key}.counts.{name}: a count's name is [a-z][a-z0-9_]*")
        if not isinstance(expression, str) or not expression.strip():
            raise SpecError(f"{key}.counts.{name}: expected a boolean SQL expression (a string), got {expression!r}")
    values = _checked_params(key, entry.params, spec)
    for part, text in entry.templates.items():
        try:
            found = [p.name for p in fragments.parse(text) if not isinstance(p, str)]
            used = query_parameters(text)
        except (fragments.TemplateError, SpecError) as exc:
            raise SpecError(f"{key}.{part}: {str(exc).removeprefix('sql: ')}") from None
        named = next((name for name in found if name in fragments.RECONCILIATION), "")
        if named and spec.reconciliation is None:
            raise SpecError(f"{key}.{part} uses {{{named}}}, but deploy.toml has no [reconciliation] section to name it")
        missing = sorted({name for name in used if name not in values and name not in entry.params})
        if missing:
            known = ", ".join([*values, *entry.params])
            raise SpecError(
                f"{key}.{part} uses %({missing[0]})s, which neither {key}.params nor the deployment defines (known: {known})"
            )


# ------------------------------------------------------------------ loading


def parse_override(assignment: str) -> tuple[str, str, Any]:
    """'section.key=value' -> (section, key, value); value parsed as TOML, else a string."""
    if "=" not in assignment or "." not in assignment.split("=", 1)[0]:
        raise SpecError(f"--set {assignment!r}: expected section.key=value")
    dotted, text = assignment.split("=", 1)
    section, key = dotted.strip().split(".", 1)
    try:
        value = tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        value = text  # bare words are strings: --set database.name=osusproperties
    return section, key, value


Overrides = dict[str, dict[str, Any]]


def read_toml(path: Path, what: str, missing: str, error: type[DeploylogError] = DeploylogError) -> dict[str, Any]:
    """A TOML file (deploy.toml, the waivers file) as data; `error` with one line when it cannot be read."""
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        raise error(missing) from None
    except IsADirectoryError:
        raise error(f"{what} {path} is a directory, not a file") from None
    except PermissionError:
        raise error(f"{what} {path} is not readable by this user") from None
    except tomllib.TOMLDecodeError as exc:
        raise error(f"{path}: not valid TOML: {exc}") from None


def load(path: str | Path, overrides: Overrides | None = None) -> Spec:
    """Read deploy.toml, apply command-line overrides, validate; relative paths are resolved."""
    path = Path(path)
    missing = f"deployment config not found: {path} (give one with --deploy-config)"
    raw = read_toml(path, "deployment config", missing, SpecError)
    for section, values in (overrides or {}).items():
        if section not in SECTIONS:
            raise _unknown(section, list(SECTIONS))
        if not isinstance(raw.setdefault(section, {}), dict):
            raise SpecError(f"{path}: {section}: expected a table")
        raw[section].update(values)
    try:
        spec = build(raw, source=str(path))
    except SpecError as exc:
        raise SpecError(f"{path}: {exc}") from None
    return _resolve_paths(spec, path.resolve().parent)


def resolve_path(value: str, base: Path) -> str:
    """A path from deploy.toml or the command line: `~` expanded, relative to base; "" stays ""."""
    return str(base / Path(value).expanduser()) if value else value


def _resolve_paths(spec: Spec, base: Path) -> Spec:
    """Relative paths in deploy.toml are relative to the file itself, not the cwd."""

    def resolve(value: str) -> str:
        return resolve_path(value, base)

    resolved: dict[str, Any] = {
        key: tuple(resolve(v) for v in value) if isinstance(value, tuple) else resolve(value)
        for key, value in dataclasses.asdict(spec.paths).items()
    }
    signing = dataclasses.replace(
        spec.signing,
        allowed_signers=resolve(spec.signing.allowed_signers),
        key=resolve(spec.signing.key),
    )
    waivers = Waivers(file=resolve(spec.waivers.file))
    return dataclasses.replace(spec, paths=Paths(**resolved), waivers=waivers, signing=signing)
