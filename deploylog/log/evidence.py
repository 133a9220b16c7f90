"""Bounded results in the state: an over-long evidence, message or query is kept whole beside it.

Every result reaches the log through state.append_event, which calls
cap_event once, after redaction. A text over its limit (UTF-8 bytes) is
written whole, as redacted, to `<report_dir>/evidence/<item>-<field>-<sha256[:16]>.txt`
(named by its content: the same text is one file), and the result keeps its
head followed by

    … truncated: N bytes omitted (full text: evidence/6.3-evidence-0123456789abcdef.txt, sha256 <hex>)

and lists the file in `full_text` (field, path relative to report_dir, size,
sha256), which execution-log.json carries with the result. So the state and the
rendered log stay small whatever a check pastes, and nothing is lost.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Any

from deploylog.files import write_atomic

FOLDER = "evidence"
EVIDENCE_LIMIT = 65536  # the "Actual Result" block
MESSAGE_LIMIT = 4096  # the one-line verdict (it is repeated in tables and issue lists)
QUERY_LIMIT = 16384  # each SQL statement or command


def cap_event(event: dict[str, Any], report_dir: Path) -> dict[str, Any]:
    """Cap the evidence, message and queries of each result of a (redacted) event, in place; returns it."""
    for entry in event.get("results") or []:
        if isinstance(entry, dict):
            cap_entry(entry, report_dir)
    return event


def cap_entry(entry: dict[str, Any], report_dir: Path) -> None:
    """Cap one result's evidence, message and each query (named query1, query2, ... in full_text)."""
    for field, limit, joint in (("evidence", EVIDENCE_LIMIT, "\n"), ("message", MESSAGE_LIMIT, " ")):
        text = entry.get(field)
        if isinstance(text, str):
            entry[field] = _capped(entry, field, text, limit, joint, report_dir)
    queries = entry.get("queries")
    if isinstance(queries, list):
        entry["queries"] = [
            _capped(entry, f"query{n}", q, QUERY_LIMIT, " ", report_dir) if isinstance(q, str) else q for n, q in enumerate(queries, 1)
        ]


def _capped(entry: dict[str, Any], field: str, text: str, limit: int, joint: str, report_dir: Path) -> str:
    if len(text) <= limit // 4:  # 4 bytes per character at most: surely within the limit
        return text
    data = text.encode("utf-8")
    if len(data) <= limit:
        return text
    sha = hashlib.sha256(data).hexdigest()
    name = re.sub(r"[^A-Za-z0-9._-]", "_", f"{entry.get('item', 'result')}-{field}-{sha[:16]}.txt")
    write_atomic(report_dir / FOLDER / name, data)
    path = f"{FOLDER}/{name}"
    entry.setdefault("full_text", []).append({"field": field, "path": path, "size": len(data), "sha256": sha})
    head = data[:limit].decode("utf-8", "ignore")  # a character cut in two is left out whole
    omitted = len(data) - len(head.encode("utf-8"))
    return f"{head}{joint}… truncated: {omitted} bytes omitted (full text: {path}, sha256 {sha})"
