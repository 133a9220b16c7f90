"""Run pytest in-process and record every SQL statement the suite sends, parameters inlined.

Usage: python bench/_record.py OUT.sql -- <pytest args>
Each statement is written to OUT.sql as one psql-runnable statement terminated by
';' and preceded by a '-- kind:' comment (figure | fingerprint | copy = row export, COPY or streamed buckets).
"""

from __future__ import annotations

import sys
from pathlib import Path

import psycopg
import pytest

records: list[tuple[str, str]] = []
_execute = psycopg.Cursor.execute
_copy = psycopg.Cursor.copy
_stream = psycopg.Cursor.stream


def _text(cur: psycopg.Cursor, query, params) -> str:
    return psycopg.ClientCursor(cur.connection).mogrify(query, params)


def execute(self, query, params=None, **kwargs):
    text = _text(self, query, params)
    kind = "fingerprint" if "md5(" in text or "hash_record_extended(" in text else "figure"
    records.append((kind, text))
    return _execute(self, query, params, **kwargs)


def copy(self, statement, params=None, **kwargs):
    records.append(("copy", _text(self, statement, params)))
    return _copy(self, statement, params, **kwargs)


def stream(self, query, params=None, **kwargs):
    # fingerprint.export_rows streams the per-bucket rows + digests: the row export
    records.append(("copy", _text(self, query, params)))
    return _stream(self, query, params, **kwargs)


psycopg.Cursor.execute = execute
psycopg.Cursor.stream = stream
psycopg.Cursor.copy = copy

if __name__ == "__main__":
    out = Path(sys.argv[1])
    args = sys.argv[3:] if sys.argv[2] == "--" else sys.argv[2:]
    code = pytest.main(args)
    with out.open("w") as fh:
        for kind, text in records:
            fh.write(f"-- kind: {kind}\n{text.strip().rstrip(';')};\n")
    sys.exit(int(code))
