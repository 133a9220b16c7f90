"""Fingerprints of the protected sets ([[protect]]): counts can match while data changed.

Each set's rows (protect.rows: `SELECT id, <columns>`) are hashed per row in
SQL and folded per bucket (bucket = id >> 10) into a count and a digest, in
one scan that also counts the set's named sub-counts: only the buckets reach
Python (a few kilobytes per million rows), and the counts phase 5 compares
cost no query of their own. At phase 0 the same scan also streams the
(id, row hash) pairs into a side file, one message per bucket, so that a
changed bucket can later be narrowed down to the row ids that changed.

The digest (`Method`) is chosen by the server and recorded in the baseline:

- PostgreSQL 14+: `hash_record_extended(row, 0)` per row (64 bits, computed on
  the values' binary form, no text conversion), `bit_xor` per bucket. Stable
  within one PostgreSQL major version only (hash functions may change between
  majors, as may a hash on another architecture): the baseline records the
  server's major version, and a comparison on another major is refused.
- older servers: `md5` of the row's text form, `md5(string_agg(...))` per
  bucket (deploylog's earlier digest, about twice the cost), comparable on any
  server that prints the values alike.

Equal values hash alike as PostgreSQL's equality sees them (`1.0` and `1.00`
are one numeric), NULL is told from '' and 0, and the columns' order counts.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from deploylog import protect
from deploylog.access import did_you_mean
from deploylog.db import Snapshot
from deploylog.errors import DeploylogError, MissingObjectError
from deploylog.spec import Protect, Spec

if TYPE_CHECKING:  # imported where used: start-up (pytest --co, the CLI) needs none of it
    import psycopg
    from psycopg import sql

BUCKET_SHIFT = 10
NO_HASH = re.compile(r"could not identify an? (?:extended )?hash function for type (?P<type>.+)$")


@dataclass(frozen=True)
class Method:
    """How a row is hashed and a bucket folded."""

    name: str
    row_hash: str  # SQL over the whole row `s`
    bucket_digest: str  # SQL of an aggregate over r.h (r.id the row id)
    per_major: bool  # comparable only on the PostgreSQL major version it was computed on
    summary: str


XOR = Method(
    "hash_record_extended+bit_xor",
    "hash_record_extended(s, 0)",
    "to_hex(bit_xor(r.h))",
    per_major=True,
    summary="per row hash_record_extended(row, 0) (64 bits), per bucket count and bit_xor",
)
MD5 = Method(
    "md5+string_agg",
    "left(md5(s::text), 16)",
    "md5(string_agg(r.h, '' ORDER BY r.id))",
    per_major=False,
    summary="per row md5 of its text (64 bits kept), per bucket count and md5 of the hashes in id order",
)
METHODS = {m.name: m for m in (XOR, MD5)}
XOR_SINCE = 140000  # hash_record_extended and bit_xor: PostgreSQL 14


def server_version_num(snap: Snapshot) -> int:
    return int(snap.memo("server_version_num", lambda: snap.row("SELECT current_setting('server_version_num')::int")[0]))


def method_for(snap: Snapshot) -> Method:
    """The digest a new baseline uses on this server."""
    return XOR if server_version_num(snap) >= XOR_SINCE else MD5


def record(snap: Snapshot, method: Method) -> dict[str, Any]:
    """What the baseline keeps about its digest: enough to refuse a comparison it cannot make."""
    version = server_version_num(snap)
    return {
        "method": method.name,
        "summary": method.summary,
        "bucket_shift": BUCKET_SHIFT,
        "server_version_num": version,
        "server_major": version // 10000,
    }


def method_of(recorded: dict[str, Any]) -> Method:
    found = METHODS.get(str(recorded.get("method")))
    if found is None or recorded.get("bucket_shift") != BUCKET_SHIFT:
        raise DeploylogError(f"the baseline's fingerprints use a digest this release does not know ({recorded!r})")
    return found


def incomparable(recorded: dict[str, Any], server_major: int) -> str:
    """Why fingerprints recorded with `recorded` cannot be compared on a server of `server_major` ('' when they can)."""
    method = method_of(recorded)
    if not method.per_major or recorded.get("server_major") == server_major:
        return ""
    return (
        f"the baseline's fingerprints were computed with {method.name} on PostgreSQL {recorded.get('server_major')}, "
        f"this server runs PostgreSQL {server_major}: that hash is stable within one major version only, so the "
        "fingerprints cannot be compared"
    )


@dataclass
class Fingerprint:
    count: int
    counts: dict[str, int]
    digest: str
    buckets: dict[str, list[Any]]  # bucket -> [count, digest]
    query: str

    def as_dict(self) -> dict[str, Any]:
        return {"count": self.count, "counts": self.counts, "digest": self.digest, "buckets": self.buckets, "query": self.query}


@dataclass(frozen=True)
class Absent:
    """An optional set that cannot be read here (a table it reads does not exist): the reason."""

    reason: str


def _digest(buckets: dict[str, list[Any]]) -> str:
    text = "".join(f"{b}:{c}:{d}\n" for b, (c, d) in sorted(buckets.items(), key=lambda kv: int(kv[0])))
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


def _count_column(n: int) -> sql.Identifier:
    from psycopg import sql

    return sql.Identifier(f"deploylog_count_{n}")


def hashed_rows(found: protect.Rows, method: Method) -> sql.Composed:
    """SELECT id, h (the row hash), the sub-counts' conditions: one row per row of the set."""
    from psycopg import sql

    assert found.select is not None
    conditions = sql.SQL("").join(sql.SQL(", ({}) AS {}").format(expr, _count_column(n)) for n, (_, expr) in enumerate(found.counts))
    return sql.SQL("SELECT s.id, {h} AS h{conditions} FROM ({select}) AS s(id)").format(
        h=sql.SQL(method.row_hash), conditions=conditions, select=found.select
    )


def bucket_query(found: protect.Rows, method: Method, lines: bool = False) -> sql.Composed:
    """Per bucket: count, digest, each sub-count (and, at phase 0, the bucket's id/hash lines)."""
    from psycopg import sql

    counts = sql.SQL("").join(sql.SQL(", count(*) FILTER (WHERE r.{})").format(_count_column(n)) for n in range(len(found.counts)))
    export = sql.SQL(", string_agg(r.id::text || E'\\t' || r.h::text || E'\\n', '')") if lines else sql.SQL("")
    return sql.SQL("SELECT r.id >> {shift}, count(*), {digest}{counts}{export} FROM ({rows}) r GROUP BY 1").format(
        shift=sql.Literal(BUCKET_SHIFT),
        digest=sql.SQL(method.bucket_digest),
        counts=counts,
        export=export,
        rows=hashed_rows(found, method),
    )


def _fold(found: protect.Rows, rows: Iterator[tuple[Any, ...]] | list[tuple[Any, ...]], query: str) -> Fingerprint:
    names = [name for name, _ in found.counts]
    buckets: dict[str, list[Any]] = {}
    counts = dict.fromkeys(names, 0)
    for bucket, count, digest, *sub in rows:
        buckets[str(bucket)] = [count, digest]
        for name, n in zip(names, sub, strict=False):
            counts[name] += n
    return Fingerprint(sum(c for c, _ in buckets.values()), counts, _digest(buckets), buckets, query)


def _shown(snap: Snapshot, query: sql.Composed, params: dict[str, Any] | None) -> str:
    return snap.shown(query, params) if params is not None else snap.text(query)


def _explained(snap: Snapshot, entry: Protect, exc: psycopg.Error) -> Absent | None:
    """An error the entry can act on: Absent for an optional set's missing table; None to report the error as it is."""
    missing = protect.missing_relation(exc)
    if missing:
        close = snap.catalog.similar_tables(missing)
        if close:
            raise MissingObjectError(
                f"{protect.label(entry)}: its SQL reads {missing}, which is not a table of this database{did_you_mean(close)}"
            ) from None
        return Absent(protect.absent_reason(entry, f"table {missing} does not exist in this database"))
    found = NO_HASH.search(exc.diag.message_primary or "")
    if found:
        raise DeploylogError(
            f"{protect.label(entry)}: a column of type {found.group('type')} cannot be hashed (PostgreSQL has no hash "
            "function for it): cast it in the set's SQL, e.g. column::text"
        ) from None
    return None


def compute(snap: Snapshot, spec: Spec, entry: Protect, method: Method) -> Fingerprint | Absent:
    """The set's count, sub-counts and per-bucket digests, in one scan aggregated in SQL (memoised per snapshot,
    which compares with one digest: the baseline's)."""
    import psycopg

    found = protect.rows(snap, spec, entry)
    if found.select is None:
        return Absent(found.absent)
    query = bucket_query(found, method)

    def read() -> Fingerprint | Absent:
        try:
            with snap.conn.transaction():  # its own savepoint: a missing table of an optional set is not an error
                result = snap.rows(query, found.params)
        except psycopg.Error as exc:
            absent = _explained(snap, entry, exc)
            if absent is None:
                raise
            return absent
        return _fold(found, result, _shown(snap, query, found.params))

    return snap.memo(protect.label(entry), read, found.reads)


def plan(snap: Snapshot, spec: Spec, entry: Protect) -> None:
    """P.7, a day ahead: the set's fingerprint query is planned (EXPLAIN, nothing read): a missing table or column,
    a privilege or a syntax error is a DeploylogError naming the entry; an optional set's absent table is none."""
    import psycopg
    from psycopg import sql

    found = protect.rows(snap, spec, entry)
    if found.select is None:
        return
    query = sql.SQL("EXPLAIN ") + bucket_query(found, method_for(snap))

    def explain() -> None:
        try:
            with snap.conn.transaction():
                snap.rows(query, found.params)
        except psycopg.Error as exc:
            if _explained(snap, entry, exc) is None:
                raise

    snap.memo(f"{protect.label(entry)} (plan)", explain)


def export_rows(snap: Snapshot, spec: Spec, entry: Protect, method: Method, path: Path) -> tuple[Fingerprint, str] | Absent:
    """Phase 0: the fingerprint, and (id, hash) of every row into `path`; returns (fingerprint, the file's sha256).

    One scan, one message per bucket: each result row carries a bucket's
    count, digest, sub-counts (exactly compute()'s) and its lines, streamed,
    so neither the rows nor a per-row protocol message reach Python. The
    fingerprint is memoised: the baseline reads each set once.
    """
    import psycopg

    found = protect.rows(snap, spec, entry)
    if found.select is None:
        return Absent(found.absent)
    query = bucket_query(found, method, lines=True)
    shown_as = _shown(snap, bucket_query(found, method), found.params)

    def stream() -> tuple[Fingerprint, str] | Absent:
        digest = hashlib.sha256()
        snap.round_trips += 1
        snap.log.append(_shown(snap, query, found.params))
        buckets: list[tuple[Any, ...]] = []
        try:
            with snap.conn.transaction(), path.open("wb") as out:
                for *head, lines in snap.conn.cursor().stream(query, found.params):
                    data = lines.encode()
                    digest.update(data)
                    out.write(data)
                    buckets.append(tuple(head))
        except psycopg.Error as exc:
            absent = _explained(snap, entry, exc)
            if absent is None:
                raise
            return absent
        return _fold(found, buckets, shown_as), "sha256:" + digest.hexdigest()

    result = snap.memo(f"{protect.label(entry)} (row export)", stream, found.reads)
    if not isinstance(result, Absent):
        snap.memo(protect.label(entry), lambda: result[0])
    return result


def _rows_in(path: Path, buckets: set[int]) -> Iterator[tuple[int, str]]:
    with path.open() as fh:
        for line in fh:
            row_id, row_hash = line.rstrip("\n").split("\t")
            if int(row_id) >> BUCKET_SHIFT in buckets:
                yield int(row_id), row_hash


@dataclass
class Diff:
    added: list[int]
    removed: list[int]
    changed: list[int]

    @property
    def empty(self) -> bool:
        return not (self.added or self.removed or self.changed)


def changed_buckets(before: dict[str, Any], now: Fingerprint) -> list[int]:
    old = before["buckets"]
    return sorted(int(b) for b in set(old) | set(now.buckets) if old.get(b) != now.buckets.get(b))


def diff(snap: Snapshot, spec: Spec, entry: Protect, method: Method, before: dict[str, Any], rows_file: Path | None) -> Diff | None:
    """Row ids that differ between the baseline fingerprint and now; None when the set is unchanged."""
    from psycopg import sql

    now = compute(snap, spec, entry, method)
    assert isinstance(now, Fingerprint)
    if now.digest == before["digest"]:
        return None
    buckets = changed_buckets(before, now)
    if rows_file is None or not rows_file.exists():
        return Diff([], [], [])
    found = protect.rows(snap, spec, entry)
    low, high = buckets[0] << BUCKET_SHIFT, ((buckets[-1] + 1) << BUCKET_SHIFT) - 1
    # the id range lets the planner use an index on the id; the bucket list keeps only the changed buckets
    query = sql.SQL(
        "SELECT r.id, r.h FROM ({rows}) r WHERE r.id BETWEEN {low} AND {high} AND r.id >> {shift} = ANY({buckets})"
    ).format(
        rows=hashed_rows(found, method),
        low=sql.Literal(low),
        high=sql.Literal(high),
        shift=sql.Literal(BUCKET_SHIFT),
        buckets=sql.Literal(buckets),
    )

    def read() -> list[tuple[Any, ...]]:
        with snap.conn.transaction():
            return snap.rows(query, found.params)

    current = {row_id: str(h) for row_id, h in snap.memo(f"{protect.label(entry)} (changed rows)", read, found.reads)}
    old = dict(_rows_in(rows_file, set(buckets)))
    return Diff(
        added=sorted(set(current) - set(old)),
        removed=sorted(set(old) - set(current)),
        changed=sorted(i for i in set(old) & set(current) if old[i] != current[i]),
    )
