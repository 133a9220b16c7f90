"""deploy.toml -> a typed, validated Spec: one frozen dataclass per section.

The dataclasses below are the single description of every key: its type
(from the annotation), whether it is required (no default) and its default.
Loading rejects unknown keys, wrong types and missing required keys with one
message naming the key, so a typo in a change window never silently falls
back to a default. Lists are read into tuples: a Spec cannot change once built.
"""

from __future__ import annotations

import dataclasses
import difflib
import tomllib
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Union

from deploylog.errors import DeploylogError


class SpecError(DeploylogError):
    """deploy.toml (or an override) is invalid; the message names the key."""


@dataclass(frozen=True)
class Deployment:
    module: str
    expected_version: str
    title: str = ""
    previous_version: str = ""
    id: str = ""  # default: <database>-<module>-<expected_version>
    branch: str = ""  # expected git branch of the checkout
    # The module is absent (or uninstalled) before this deployment: declared, never guessed.
    first_install: bool = False


@dataclass(frozen=True)
class Database:
    name: str
    dsn: str = ""  # libpq conninfo or URI; empty = PG* variables / ~/.pgpass
    statement_timeout_ms: int = 60000
    lock_timeout_ms: int = 2000
    connect_timeout_s: int = 10
    # 1.1 deep mode: restore the dump into a scratch database and compare counts with the baseline
    verify_restore: bool = False
    restore_dsn: str = ""  # server/role allowed to CREATE DATABASE for it; empty = dsn


@dataclass(frozen=True)
class Paths:
    repo: str = ""  # git checkout (addons repository) holding the module
    module_dir: str = ""  # default: <repo>/<module>
    backup_dir: str = "/var/odoo/backups"
    log_file: str = ""
    baseline_dir: str = "baseline"
    report_dir: str = "reports"
    pg_bin_dir: str = ""  # where pg_dump/pg_restore live; empty = PATH


SERVICE_MANAGERS = ("systemd", "process", "pidfile", "none")


@dataclass(frozen=True)
class Service:
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
    changed_files: tuple[str, ...] = ()
    # how __manifest__.py is treated when it is not in changed_files:
    # "version-only" accepts it when the version is its only change.
    manifest_policy: str = "version-only"


@dataclass(frozen=True)
class Thresholds:
    min_posted_payments: int = 100
    min_posted_invoices: int = 50
    min_free_disk_gb: float = 10
    min_manager_members: int = 1
    workflow_window_days: int = 30
    log_tail_lines: int = 0  # 0 = time window from the baseline, N = template's "tail -N"
    max_log_errors: int = 0


@dataclass(frozen=True)
class Groups:
    manager: str = "payment_account_enhanced.group_payment_manager"
    reviewer: str = "payment_account_enhanced.group_payment_reviewer"
    approver: str = "payment_account_enhanced.group_payment_approver"


@dataclass(frozen=True)
class Reconciliation:
    # Not stock Odoo: the tables come from another module. Only when `optional` is true may
    # their absence make 0.2, 4.7 and 5.3 N/A; otherwise an absent table is an error.
    optional: bool = False
    table: str = "account_bank_reconciliation_line"
    move_column: str = "move_id"
    reconciliation_column: str = "reconciliation_id"
    reconciliation_table: str = "account_bank_reconciliation"


@dataclass(frozen=True)
class Approval:
    payment_states: tuple[str, ...] = (
        "draft",
        "under_review",
        "for_approval",
        "for_authorization",
        "approved",
        "posted",
        "cancelled",
    )
    move_states: tuple[str, ...] = ("draft", "under_review", "for_approval", "approved", "posted", "cancelled")


@dataclass(frozen=True)
class Invoices:
    move_types: tuple[str, ...] = ("out_invoice", "out_refund", "in_invoice", "in_refund")


@dataclass(frozen=True)
class Signing:
    """Who may sign this deployment's log, and the key this operator signs with (README: trust model)."""

    # OpenSSH allowed_signers file (`principal ssh-ed25519 AAAA...` per line) that verify checks every
    # signature against. Empty: nothing is signed and the log is integrity-checked only, not tamper-proof.
    allowed_signers: str = ""
    # The key that signs this operator's runs, records and sign-offs: a private key file without passphrase,
    # or a .pub whose private half is in ssh-agent. Empty: the ssh-agent's key that allowed_signers lists.
    key: str = ""
    # The identity to sign as, as allowed_signers names it. Empty: the principal allowed_signers lists for the key.
    principal: str = ""
    # true: an event that cannot be signed is not recorded (one error line) and verify fails an unsigned event.
    # false: it is recorded unsigned, saying why, and verify reports it unsigned (the log is then not tamper-proof).
    required: bool = True

    @property
    def enabled(self) -> bool:
        return bool(self.allowed_signers)


GUARD_ITEMS = ("4.2", "4.3", "4.4")


@dataclass(frozen=True)
class Guard:
    """One [[guards]] entry: the method of the deployed code that must guard an item."""

    item: str  # 4.2 / 4.3 / 4.4
    file: str  # relative to the module directory
    function: str  # Class.method or function name
    description: str = ""


# [section] name -> its dataclass; [[guards]] is the one array of tables.
SECTIONS: dict[str, type] = {
    "deployment": Deployment,
    "database": Database,
    "paths": Paths,
    "service": Service,
    "expected": Expected,
    "thresholds": Thresholds,
    "groups": Groups,
    "reconciliation": Reconciliation,
    "approval": Approval,
    "invoices": Invoices,
    "signing": Signing,
}
ARRAYS: dict[str, type] = {"guards": Guard}


@dataclass(frozen=True)
class Spec:
    """The validated deployment description."""

    source: str
    deployment: Deployment
    database: Database
    paths: Paths = field(default_factory=Paths)
    service: Service = field(default_factory=Service)
    expected: Expected = field(default_factory=Expected)
    thresholds: Thresholds = field(default_factory=Thresholds)
    groups: Groups = field(default_factory=Groups)
    reconciliation: Reconciliation = field(default_factory=Reconciliation)
    approval: Approval = field(default_factory=Approval)
    invoices: Invoices = field(default_factory=Invoices)
    signing: Signing = field(default_factory=Signing)
    guards: tuple[Guard, ...] = ()

    @property
    def deployment_id(self) -> str:
        return self.deployment.id or f"{self.database.name}-{self.deployment.module}-{self.deployment.expected_version}"

    @property
    def module_dir(self) -> Path:
        if self.paths.module_dir:
            return Path(self.paths.module_dir)
        return Path(self.paths.repo) / self.deployment.module

    @property
    def baseline_path(self) -> Path:
        """Where phase 0 keeps this deployment's baseline (its row files beside it, `.rows`)."""
        return Path(self.paths.baseline_dir) / f"{self.deployment_id}.json"

    def guard_for(self, item: str) -> Guard | None:
        """The [[guards]] entry of an item, or None."""
        return next((g for g in self.guards if g.item == item), None)

    def as_dict(self) -> dict[str, Any]:
        """The spec as plain TOML-like data (tuples as lists), e.g. to write a derived deploy.toml."""
        data: dict[str, Any] = {}
        for name in SECTIONS:
            data[name] = {k: list(v) if isinstance(v, tuple) else v for k, v in dataclasses.asdict(getattr(self, name)).items()}
        data["guards"] = [dataclasses.asdict(g) for g in self.guards]
        return data


# ------------------------------------------------------------------ validation


def _accepted(annotation: Any) -> tuple[tuple[type, ...], bool]:
    """(accepted Python types, is a list of strings) for a field annotation."""
    origin = typing.get_origin(annotation)
    if origin is tuple:
        return (list,), True
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
        assert isinstance(value, list)
        if not all(isinstance(v, str) for v in value):
            raise SpecError(f"{key}: expected a list of strings, got {value!r}")
        return tuple(value)
    return value


def _unknown(key: str, known: list[str]) -> SpecError:
    hint = difflib.get_close_matches(key.rsplit(".", 1)[-1], known, n=1)
    suffix = f" (did you mean {hint[0]!r}?)" if hint else ""
    return SpecError(f"unknown key {key!r}{suffix}; known: {', '.join(known)}")


def _section(name: str, raw: Any, cls: type) -> Any:
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
    sections = {name: _section(name, raw.get(name, {}), cls) for name, cls in SECTIONS.items()}
    raw_guards = raw.get("guards", [])
    if not isinstance(raw_guards, list):
        raise SpecError("guards: expected an array of tables ([[guards]])")
    guards = tuple(_section(f"guards[{n}]", g, Guard) for n, g in enumerate(raw_guards))
    spec = Spec(source=source, guards=guards, **sections)
    _check_values(spec)
    return spec


def _one_of(key: str, value: str, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise SpecError(f"{key}: expected {', '.join(allowed[:-1])} or {allowed[-1]}, got {value!r}")


def _check_values(spec: Spec) -> None:
    _one_of("service.manager", spec.service.manager, SERVICE_MANAGERS)
    _one_of("expected.manifest_policy", spec.expected.manifest_policy, MANIFEST_POLICIES)
    for key in ("statement_timeout_ms", "lock_timeout_ms", "connect_timeout_s"):
        if getattr(spec.database, key) <= 0:
            raise SpecError(f"database.{key}: must be > 0 (a check must never wait forever)")
    for guard in spec.guards:
        _one_of("guards.item", guard.item, GUARD_ITEMS)
    for key in ("key", "principal"):
        if getattr(spec.signing, key) and not spec.signing.enabled:
            raise SpecError(f"signing.{key}: set signing.allowed_signers too (the list of keys allowed to sign)")


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


def load(path: str | Path, overrides: Overrides | None = None) -> Spec:
    """Read deploy.toml, apply command-line overrides, validate; relative paths are resolved."""
    path = Path(path)
    try:
        with path.open("rb") as fh:
            raw = tomllib.load(fh)
    except FileNotFoundError:
        raise SpecError(f"deployment config not found: {path} (give one with --deploy-config)") from None
    except IsADirectoryError:
        raise SpecError(f"deployment config {path} is a directory, not a file") from None
    except PermissionError:
        raise SpecError(f"deployment config {path} is not readable by this user") from None
    except tomllib.TOMLDecodeError as exc:
        raise SpecError(f"{path}: not valid TOML: {exc}") from None
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
    resolved = {
        key: str(base / value) if value and not Path(value).is_absolute() else value
        for key, value in dataclasses.asdict(spec.paths).items()
    }
    signing = dataclasses.replace(
        spec.signing,
        allowed_signers=resolve_path(spec.signing.allowed_signers, base),
        key=resolve_path(spec.signing.key, base),
    )
    return dataclasses.replace(spec, paths=Paths(**resolved), signing=signing)
