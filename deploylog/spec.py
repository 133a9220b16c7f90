"""deploy.toml -> a typed, validated Spec.

The schema below is the single description of every key: its type, whether it
is required and its default. Loading rejects unknown keys, wrong types and
missing required keys with one message naming the key, so a typo in a change
window never silently falls back to a default.
"""

from __future__ import annotations

import difflib
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REQUIRED = object()  # marker for keys without a default


class SpecError(ValueError):
    """deploy.toml (or an override) is invalid; the message names the key."""


# section -> key -> (type, default). A type tuple means "any of these".
SCHEMA: dict[str, dict[str, tuple[Any, Any]]] = {
    "deployment": {
        "module": (str, REQUIRED),
        "title": (str, ""),
        "expected_version": (str, REQUIRED),
        "previous_version": (str, ""),
        "id": (str, ""),  # default: <database>-<module>-<expected_version>
        "branch": (str, ""),  # expected git branch of the checkout
    },
    "database": {
        "name": (str, REQUIRED),
        "dsn": (str, ""),  # libpq conninfo or URI; empty = PG* variables / ~/.pgpass
        "statement_timeout_ms": (int, 60000),
        "lock_timeout_ms": (int, 2000),
        "connect_timeout_s": (int, 10),
        # 1.1 deep mode: restore the dump into a scratch database and compare counts with the baseline
        "verify_restore": (bool, False),
        "restore_dsn": (str, ""),  # server/role allowed to CREATE DATABASE for it; empty = dsn
    },
    "paths": {
        "repo": (str, ""),  # git checkout (addons repository) holding the module
        "module_dir": (str, ""),  # default: <repo>/<module>
        "backup_dir": (str, "/var/odoo/backups"),
        "log_file": (str, ""),
        "baseline_dir": (str, "baseline"),
        "report_dir": (str, "reports"),
        "pg_bin_dir": (str, ""),  # where pg_dump/pg_restore live; empty = PATH
    },
    "service": {
        "manager": (str, "systemd"),  # systemd | process | pidfile | none
        "name": (str, "odoo.service"),
        "process_name": (str, "odoo-bin"),
        "pidfile": (str, ""),
        "health_url": (str, ""),
        "cache_dirs": (list, []),
        "http_timeout_s": (int, 5),
        "log_timezone": (str, "UTC"),  # zone of the log's timestamps (Odoo logs in UTC)
    },
    "expected": {
        "changed_files": (list, []),
        # how __manifest__.py is treated when it is not in changed_files:
        # "version-only" accepts it when the version is its only change.
        "manifest_policy": (str, "version-only"),
    },
    "thresholds": {
        "min_posted_payments": (int, 100),
        "min_posted_invoices": (int, 50),
        "min_free_disk_gb": ((int, float), 10),
        "min_manager_members": (int, 1),
        "workflow_window_days": (int, 30),
        "log_tail_lines": (int, 0),  # 0 = time window from the baseline, N = template's "tail -N"
        "max_log_errors": (int, 0),
    },
    "groups": {
        "manager": (str, "payment_account_enhanced.group_payment_manager"),
        "reviewer": (str, "payment_account_enhanced.group_payment_reviewer"),
        "approver": (str, "payment_account_enhanced.group_payment_approver"),
    },
    "reconciliation": {
        "table": (str, "account_bank_reconciliation_line"),
        "move_column": (str, "move_id"),
        "reconciliation_column": (str, "reconciliation_id"),
        "reconciliation_table": (str, "account_bank_reconciliation"),
    },
    "approval": {
        "payment_states": (
            list,
            ["draft", "under_review", "for_approval", "for_authorization", "approved", "posted", "cancelled"],
        ),
        "move_states": (list, ["draft", "under_review", "for_approval", "approved", "posted", "cancelled"]),
    },
    "invoices": {
        "move_types": (list, ["out_invoice", "out_refund", "in_invoice", "in_refund"]),
    },
}

# [[guards]] entries: a list of tables, each with these keys.
GUARD_SCHEMA: dict[str, tuple[Any, Any]] = {
    "item": (str, REQUIRED),  # 4.2 / 4.3 / 4.4
    "file": (str, REQUIRED),  # relative to the module directory
    "function": (str, REQUIRED),  # Class.method or function name
    "description": (str, ""),
}

SECTIONS = (*SCHEMA, "guards")


@dataclass(frozen=True)
class Guard:
    item: str
    file: str
    function: str
    description: str = ""


class Section:
    """Attribute access to one validated section (spec.database.dsn)."""

    def __init__(self, name: str, values: dict[str, Any]) -> None:
        self._name = name
        self.__dict__.update(values)

    def as_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if not k.startswith("_")}

    def __repr__(self) -> str:
        return f"Section({self._name}, {self.as_dict()})"


@dataclass
class Spec:
    """The validated deployment description."""

    source: str
    deployment: Section
    database: Section
    paths: Section
    service: Section
    expected: Section
    thresholds: Section
    groups: Section
    reconciliation: Section
    approval: Section
    invoices: Section
    guards: list[Guard]

    @property
    def deployment_id(self) -> str:
        return self.deployment.id or f"{self.database.name}-{self.deployment.module}-{self.deployment.expected_version}"

    @property
    def module_dir(self) -> Path:
        if self.paths.module_dir:
            return Path(self.paths.module_dir)
        return Path(self.paths.repo) / self.deployment.module

    def as_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {name: getattr(self, name).as_dict() for name in SCHEMA}
        data["guards"] = [g.__dict__ for g in self.guards]
        return data


def _type_name(expected: Any) -> str:
    if isinstance(expected, tuple):
        return " or ".join(t.__name__ for t in expected)
    return expected.__name__


def _check_type(key: str, value: Any, expected: Any) -> None:
    # bool is an int in Python; a threshold written as `true` is a mistake.
    if isinstance(value, bool) and expected is not bool:
        raise SpecError(f"{key}: expected {_type_name(expected)}, got boolean {value!r}")
    if not isinstance(value, expected):
        raise SpecError(f"{key}: expected {_type_name(expected)}, got {type(value).__name__} {value!r}")
    if expected is list and not all(isinstance(v, str) for v in value):
        raise SpecError(f"{key}: expected a list of strings, got {value!r}")


def _unknown(key: str, known: list[str]) -> SpecError:
    hint = difflib.get_close_matches(key.rsplit(".", 1)[-1], known, n=1)
    suffix = f" (did you mean {hint[0]!r}?)" if hint else ""
    return SpecError(f"unknown key {key!r}{suffix}; known: {', '.join(known)}")


def _section(name: str, raw: Any, schema: dict[str, tuple[Any, Any]]) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise SpecError(f"{name}: expected a table, got {type(raw).__name__}")
    for key in raw:
        if key not in schema:
            raise _unknown(f"{name}.{key}", list(schema))
    values: dict[str, Any] = {}
    for key, (expected, default) in schema.items():
        if key in raw:
            _check_type(f"{name}.{key}", raw[key], expected)
            values[key] = raw[key]
        elif default is REQUIRED:
            raise SpecError(f"missing required key {name}.{key}")
        else:
            values[key] = list(default) if isinstance(default, list) else default
    return values


def build(raw: dict[str, Any], source: str = "<dict>") -> Spec:
    """Validate a parsed TOML document and return the Spec."""
    for name in raw:
        if name not in SECTIONS:
            raise _unknown(name, list(SECTIONS))
    sections = {name: Section(name, _section(name, raw.get(name, {}), schema)) for name, schema in SCHEMA.items()}
    raw_guards = raw.get("guards", [])
    if not isinstance(raw_guards, list):
        raise SpecError("guards: expected an array of tables ([[guards]])")
    guards = [Guard(**_section(f"guards[{n}]", g, GUARD_SCHEMA)) for n, g in enumerate(raw_guards)]
    spec = Spec(source=source, guards=guards, **sections)
    _check_values(spec)
    return spec


def _check_values(spec: Spec) -> None:
    if spec.service.manager not in {"systemd", "process", "pidfile", "none"}:
        raise SpecError(f"service.manager: expected systemd, process, pidfile or none, got {spec.service.manager!r}")
    if spec.expected.manifest_policy not in {"version-only", "listed"}:
        raise SpecError(f"expected.manifest_policy: expected version-only or listed, got {spec.expected.manifest_policy!r}")
    for key in ("statement_timeout_ms", "lock_timeout_ms", "connect_timeout_s"):
        if getattr(spec.database, key) <= 0:
            raise SpecError(f"database.{key}: must be > 0 (a check must never wait forever)")
    for guard in spec.guards:
        if guard.item not in {"4.2", "4.3", "4.4"}:
            raise SpecError(f"guards.item: expected 4.2, 4.3 or 4.4, got {guard.item!r}")


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


def load(path: str | Path, overrides: dict[str, dict[str, Any]] | None = None) -> Spec:
    """Read deploy.toml, apply command-line overrides, validate."""
    path = Path(path)
    try:
        with path.open("rb") as fh:
            raw = tomllib.load(fh)
    except FileNotFoundError:
        raise SpecError(f"deployment config not found: {path} (give one with --deploy-config)") from None
    except tomllib.TOMLDecodeError as exc:
        raise SpecError(f"{path}: not valid TOML: {exc}") from None
    for section, values in (overrides or {}).items():
        if section not in SCHEMA:
            raise _unknown(section, list(SCHEMA))
        raw.setdefault(section, {}).update(values)
    try:
        spec = build(raw, source=str(path))
    except SpecError as exc:
        raise SpecError(f"{path}: {exc}") from None
    _resolve_paths(spec, path.resolve().parent)
    return spec


def _resolve_paths(spec: Spec, base: Path) -> None:
    """Relative paths in deploy.toml are relative to the file itself, not the cwd."""
    for key, value in spec.paths.as_dict().items():
        if value and not Path(value).is_absolute():
            setattr(spec.paths, key, str(base / value))
