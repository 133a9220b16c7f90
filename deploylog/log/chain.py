"""Tamper evidence: a sha256 chain over the baseline digest and every event of the state.

    h0 = sha256("deploylog-chain/1" \\n deployment_id \\n baseline_digest)
    hN = sha256(hN-1 \\n canonical_json(event N))

The head is printed in the JSON and HTML logs; every sign-off stores the head
of the events before it, so a result changed after someone signed is caught
even when all the files were re-rendered. There is no secret key: keep the
head printed at sign-off (console, change ticket) as the outside anchor.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

PREFIX = "deploylog-chain/1"


def canonical(event: dict[str, Any]) -> str:
    return json.dumps(event, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def genesis(deployment_id: str, baseline_digest: str) -> str:
    return hashlib.sha256(f"{PREFIX}\n{deployment_id}\n{baseline_digest}".encode()).hexdigest()


def step(previous: str, event: dict[str, Any]) -> str:
    return hashlib.sha256(f"{previous}\n{canonical(event)}".encode()).hexdigest()


def heads(deployment_id: str, baseline_digest: str, events: list[dict[str, Any]]) -> list[str]:
    """The chain head before each event and, last, after all of them (len(events) + 1 values)."""
    digest = genesis(deployment_id, baseline_digest)
    out = [digest]
    for event in events:
        digest = step(digest, event)
        out.append(digest)
    return out


def head(deployment_id: str, baseline_digest: str, events: list[dict[str, Any]]) -> str:
    return heads(deployment_id, baseline_digest, events)[-1]
