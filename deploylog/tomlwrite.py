"""Write the small subset of TOML deploy.toml uses (tables, arrays of tables, scalars, lists, inline tables, dates).

tomllib reads TOML but does not write it; the demo and the self-tests write
deploy.toml files, so this is the one writer, checked by reading it back.
"""

from __future__ import annotations

import datetime as dt
import json
import tomllib
from typing import Any


def value(item: Any) -> str:
    """One TOML value: a scalar, a date, a list (or tuple) of them, an inline table."""
    if isinstance(item, bool):
        return "true" if item else "false"
    if isinstance(item, (int, float)):
        return repr(item)
    if isinstance(item, str):
        return json.dumps(item, ensure_ascii=False)  # JSON string escapes are valid TOML basic strings
    if isinstance(item, list | tuple):
        return "[" + ", ".join(value(v) for v in item) + "]"
    if isinstance(item, dict):  # an inline table ([[checks]] params)
        return "{" + ", ".join(f"{json.dumps(k)} = {value(v)}" for k, v in item.items()) + "}"
    if isinstance(item, dt.date):
        return item.isoformat()
    raise TypeError(f"cannot write {type(item).__name__} to TOML")


def _body(table: dict[str, Any]) -> list[str]:
    return [f"{key} = {value(item)}" for key, item in table.items()]


def dumps(data: dict[str, Any]) -> str:
    lines: list[str] = []
    for name, value in data.items():
        if isinstance(value, dict):
            lines += [f"[{name}]", *_body(value), ""]
        elif isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
            for entry in value:
                lines += [f"[[{name}]]", *_body(entry), ""]
        else:
            raise TypeError(f"top-level key {name!r} must be a table or an array of tables")
    text = "\n".join(lines)
    if tomllib.loads(text) != {k: v for k, v in data.items() if v != []}:
        raise ValueError("TOML round trip failed")
    return text
