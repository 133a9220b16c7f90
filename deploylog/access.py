"""Which tables and columns exist, and whether the connecting role may read them, from pg_catalog.

information_schema lists only what the role holds a privilege on, so a table it
cannot read looks absent there (and a check turned "permission denied" into
"does not exist", NA, GO). Here existence comes from pg_catalog (to_regclass,
search_path aware; pg_attribute) and privilege from has_table_privilege /
has_column_privilege / has_schema_privilege / has_function_privilege. An
object that exists but cannot be read is a PrivilegeError naming the role, the
object and the GRANT that fixes it.

Every figure declares what its SQL reads (`Reads`); the snapshot checks that
declaration once, before the SQL runs, and P.7 checks the union a day ahead.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from deploylog.errors import MissingObjectError, PrivilegeError

# runs one catalog query: (sql, params) -> rows
RunQuery = Callable[[str, Any], list[tuple[Any, ...]]]

# Relations a configured name may denote: tables, partitioned tables, views, materialised views, foreign tables.
RELKINDS = ["r", "p", "v", "m", "f"]
# A configured name this close to an existing one is a typo, not an absent optional table
# (0.85 keeps stock Odoo's account_bank_statement_line away from account_bank_reconciliation_line: 0.71).
SIMILARITY = 0.85

RELATIONS_SQL = """SELECT n.name, quote_ident(s.nspname) || '.' || quote_ident(c.relname), c.oid::bigint,
       coalesce(has_table_privilege(c.oid, 'SELECT'), false),
       coalesce((SELECT array_agg(a.attname::text ORDER BY a.attnum) FROM pg_attribute a
                 WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped), '{}'),
       coalesce((SELECT array_agg(has_column_privilege(c.oid, a.attnum, 'SELECT') ORDER BY a.attnum) FROM pg_attribute a
                 WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped), '{}'),
       coalesce((SELECT array_agg(quote_ident(o.nspname) || '.' || quote_ident(k.relname) ORDER BY o.nspname)
                 FROM pg_class k JOIN pg_namespace o ON o.oid = k.relnamespace
                 WHERE c.oid IS NULL AND k.relname = n.name AND k.relkind = ANY(%s::"char"[])
                   AND NOT has_schema_privilege(o.oid, 'USAGE')), '{}')
FROM unnest(%s::text[]) AS n(name)
LEFT JOIN pg_class c ON c.oid = to_regclass(quote_ident(n.name))
LEFT JOIN pg_namespace s ON s.oid = c.relnamespace"""

SESSION_SQL = "SELECT current_user, quote_ident(current_user), current_schemas(false)::text[]"

FUNCTIONS_SQL = """SELECT f, to_regprocedure(f) IS NOT NULL,
       CASE WHEN to_regprocedure(f) IS NOT NULL THEN has_function_privilege(to_regprocedure(f), 'EXECUTE') END
FROM unnest(%s::text[]) AS f"""

VISIBLE_NAMES_SQL = """SELECT DISTINCT c.relname::text FROM pg_class c
WHERE c.relnamespace = ANY(SELECT oid FROM pg_namespace WHERE nspname = ANY(current_schemas(false)))
  AND c.relkind = ANY(%s::"char"[])"""


@dataclass(frozen=True)
class Reads:
    """What one figure's SQL reads: table -> columns, and functions ('pg_catalog.f()')."""

    tables: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    functions: tuple[str, ...] = ()

    def __add__(self, other: Reads) -> Reads:
        tables = {t: tuple(dict.fromkeys(self.tables.get(t, ()) + other.tables.get(t, ()))) for t in {**self.tables, **other.tables}}
        return Reads(tables, tuple(dict.fromkeys(self.functions + other.functions)))


@dataclass(frozen=True)
class Relation:
    """One table name as the role's search_path resolves it."""

    name: str
    qualified: str = ""  # schema.table, quoted; '' when no such relation is visible
    oid: int = 0
    readable: bool = False  # table-level SELECT
    columns: Mapping[str, bool] = field(default_factory=dict)  # every column -> may the role read it
    hidden_in: tuple[str, ...] = ()  # schema.table where the role lacks USAGE on the schema

    @property
    def exists(self) -> bool:
        return bool(self.qualified)


@dataclass(frozen=True)
class Problem:
    """One object a figure reads that the role cannot read; `grant` fixes it when it is a privilege."""

    message: str
    grant: str = ""

    def error(self) -> Exception:
        return PrivilegeError(f"{self.message}: run `{self.grant}`", self.grant) if self.grant else MissingObjectError(self.message)


def close_matches(name: str, candidates: Iterable[str]) -> list[str]:
    """The names a typo of `name` most likely meant (tight: a different real name is not a typo).

    Only the best-scoring ones: long names sharing a prefix (group_payment_...) all pass the cutoff.
    """
    scored = [(difflib.SequenceMatcher(None, name, c).ratio(), c) for c in sorted(set(candidates))]
    scored = [(score, c) for score, c in scored if score >= SIMILARITY]
    best = max((score for score, _ in scored), default=0.0)
    return [c for score, c in scored if score >= best - 0.01][:3]


def did_you_mean(matches: list[str]) -> str:
    return f" (did you mean {' or '.join(matches)}?)" if matches else ""


class Catalog:
    """The connecting role, the relations and functions looked up so far (each read once per session)."""

    def __init__(self, run: RunQuery) -> None:
        self._run = run
        self._relations: dict[str, Relation] = {}
        self._functions: dict[str, tuple[bool, bool]] = {}
        self._session: tuple[str, str, list[str]] | None = None
        self._visible: list[str] | None = None

    def _session_row(self) -> tuple[str, str, list[str]]:
        if self._session is None:
            user, quoted, schemas = self._run(SESSION_SQL, None)[0]
            self._session = (str(user), str(quoted), list(schemas or []))
        return self._session

    @property
    def role(self) -> str:
        return self._session_row()[0]

    @property
    def quoted_role(self) -> str:
        """The role as a GRANT names it (quote_ident)."""
        return self._session_row()[1]

    @property
    def schemas(self) -> list[str]:
        """The schemas of the role's search_path it may use (where unqualified names are looked up)."""
        return self._session_row()[2]

    def relations(self, names: Iterable[str]) -> dict[str, Relation]:
        wanted = [n for n in dict.fromkeys(names) if n]
        missing = [n for n in wanted if n not in self._relations]
        if missing:
            for name, qualified, oid, readable, cols, col_ok, hidden in self._run(RELATIONS_SQL, (RELKINDS, missing)):
                self._relations[name] = Relation(
                    name, qualified or "", int(oid or 0), bool(readable), dict(zip(cols, col_ok, strict=True)), tuple(hidden)
                )
        return {n: self._relations[n] for n in wanted}

    def relation(self, name: str) -> Relation:
        return self.relations([name])[name]

    def similar_tables(self, name: str, exclude: Iterable[str] = ()) -> list[str]:
        """Relations on the search_path whose name is close to `name` (pg_class: visible whatever the privileges)."""
        if self._visible is None:
            self._visible = [r[0] for r in self._run(VISIBLE_NAMES_SQL, (RELKINDS,))]
        skip = set(exclude) | {name}
        return close_matches(name, (n for n in self._visible if n not in skip))

    def _function_rows(self, names: Iterable[str]) -> dict[str, tuple[bool, bool]]:
        missing = [f for f in dict.fromkeys(names) if f not in self._functions]
        if missing:
            for name, exists, allowed in self._run(FUNCTIONS_SQL, (missing,)):
                self._functions[name] = (bool(exists), bool(allowed))
        return {f: self._functions[f] for f in names}

    def _grant(self, what: str) -> str:
        return f"GRANT {what} TO {self.quoted_role};"

    def table_problems(self, table: str, columns: Iterable[str]) -> list[Problem]:
        """Why the role cannot read `columns` of `table` ([] when it can)."""
        rel = self.relation(table)
        role = self.role
        if not rel.exists:
            if rel.hidden_in:
                schema = rel.hidden_in[0].rsplit(".", 1)[0]
                return [
                    Problem(
                        f"role {role} may not use schema {schema}, which holds table {rel.hidden_in[0]} (no USAGE privilege)",
                        self._grant(f"USAGE ON SCHEMA {schema}"),
                    )
                ]
            on_path = ", ".join(self.schemas) or "none usable"
            return [Problem(f"table {table} does not exist in this database (search_path schemas: {on_path})")]
        absent = [c for c in columns if c not in rel.columns]
        if absent:
            hints = "".join(did_you_mean(close_matches(c, rel.columns)) for c in absent)
            return [Problem(f"column(s) {', '.join(absent)} do not exist in table {rel.qualified}{hints}")]
        refused = [c for c in columns if not rel.columns[c]]
        if refused or not (columns or rel.readable):
            # column-level grants: the role reads some columns of the table, not these
            what = f"column(s) {', '.join(refused)} of table" if refused and any(rel.columns.values()) else "table"
            return [
                Problem(
                    f"role {role} may not read {what} {rel.qualified} (no SELECT privilege)", self._grant(f"SELECT ON {rel.qualified}")
                )
            ]
        return []

    def function_problems(self, functions: Iterable[str]) -> list[Problem]:
        problems = []
        for name, (exists, allowed) in self._function_rows(list(functions)).items():
            if not exists:
                problems.append(Problem(f"function {name} does not exist on this server"))
            elif not allowed:
                message = f"role {self.role} may not execute {name} (no EXECUTE privilege)"
                problems.append(Problem(message, self._grant(f"EXECUTE ON FUNCTION {name}")))
        return problems

    def problems(self, reads: Reads) -> list[Problem]:
        """Every reason the role cannot run a query that reads `reads` (one catalog round trip per new name)."""
        self.relations(reads.tables)
        found = [p for table, cols in reads.tables.items() for p in self.table_problems(table, cols)]
        return found + self.function_problems(reads.functions)

    def require(self, reads: Reads) -> None:
        """Raise the first problem (PrivilegeError with its GRANT, or MissingObjectError)."""
        problems = self.problems(reads)
        if problems:
            raise problems[0].error()
