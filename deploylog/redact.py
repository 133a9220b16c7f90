"""Credential redaction for every string the log writes (Markdown, HTML, JSON, state).

A DSN or a command line may carry a password; nothing that looks like one
leaves this module unmasked.
"""

from __future__ import annotations

import re
from typing import Any

MASK = "***"

_PATTERNS = (
    # postgresql://user:secret@host -> postgresql://user:***@host
    (
        re.compile(r"(?P<pre>\b[a-z][a-z0-9+.-]*://[^:/@\s]*:)(?P<secret>[^@\s]+)(?P<post>@)", re.I),
        r"\g<pre>***\g<post>",
    ),
    # password=secret, PGPASSWORD=secret, "password": "secret", api_key: x, token=x
    (
        re.compile(
            r"(?P<pre>\b(?:pg)?(?:password|passwd|pwd|secret|token|api[_-]?key)\b['\"]?\s*[=:]\s*)"
            r"(?P<secret>'[^']*'|\"[^\"]*\"|[^\s,;&]+)",
            re.I,
        ),
        r"\g<pre>***",
    ),
    # ?password=secret in a URI query string
    (re.compile(r"(?P<pre>[?&](?:password|sslpassword)=)(?P<secret>[^&\s]+)", re.I), r"\g<pre>***"),
)


def redact(text: str) -> str:
    """The text with anything credential-like masked."""
    if not text:
        return text
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


def redact_obj(value: Any) -> Any:
    """Redact every string inside a JSON-like structure (dict keys stay as they are)."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {k: redact_obj(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [redact_obj(v) for v in value]
    return value
