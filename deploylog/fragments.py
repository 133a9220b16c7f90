"""The `{name}` fragments a [[protect]] entry's SQL may use, and the template syntax that names them.

A fragment is a piece of SQL deploylog knows per Odoo version (where a
payment's state lives) or per deploy.toml section (the [reconciliation]
table), so one declared set reads right on Odoo 16-19. The text around the
fragments is the entry's own SQL, kept as written; `{{` and `}}` are literal
braces. The names are listed here, without the database, so deploy.toml is
validated before anything runs; their SQL is resolved per snapshot
(protect.py, odoo.py).
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass

# The payment layout's fragments (odoo.payment_fragments): the Odoo 16/17 journal entry's columns, or the payment's own.
PAYMENT = ("payments", "payment_state", "payment_name", "payment_date", "posted_payment")
# The [reconciliation] section's names, as quoted identifiers.
RECONCILIATION = (
    "reconciliation.table",
    "reconciliation.move_column",
    "reconciliation.reconciliation_column",
    "reconciliation.reconciliation_table",
)
NAMES = PAYMENT + RECONCILIATION

# `{{` / `}}` (a literal brace), `{name}` (a fragment), or a lone brace (an error)
_TOKEN = re.compile(r"\{\{|\}\}|\{(?P<name>[^{}]*)\}|(?P<stray>[{}])")


class TemplateError(ValueError):
    """A template that names an unknown fragment or holds a lone brace; the message says which."""


@dataclass(frozen=True)
class Fragment:
    """A `{name}` in a template."""

    name: str


def parse(text: str) -> list[str | Fragment]:
    """The template as literal SQL text and fragments, in order; TemplateError for an unknown name or a lone brace."""
    parts: list[str | Fragment] = []
    literal: list[str] = []
    at = 0
    for found in _TOKEN.finditer(text):
        literal.append(text[at : found.start()])
        at = found.end()
        token = found.group(0)
        if token in ("{{", "}}"):
            literal.append(token[0])
        elif found.group("stray") is not None:
            raise TemplateError(f"a lone {token!r} at character {found.start() + 1}: write a literal brace as {token * 2}")
        else:
            name = found.group("name").strip()
            if name not in NAMES:
                hint = difflib.get_close_matches(name, NAMES, n=1)
                maybe = f" (did you mean {{{hint[0]}}}?)" if hint else ""
                raise TemplateError(
                    f"unknown fragment {{{name}}}{maybe}; known: {', '.join('{' + n + '}' for n in NAMES)}; "
                    "a literal brace is {{ or }}"
                )
            if literal:
                parts.append("".join(literal))
                literal = []
            parts.append(Fragment(name))
    literal.append(text[at:])
    if "".join(literal):
        parts.append("".join(literal))
    return parts


def used(text: str) -> set[str]:
    """The fragment names a (valid) template uses."""
    return {p.name for p in parse(text) if isinstance(p, Fragment)}
