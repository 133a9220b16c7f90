"""A Spec for host self-tests: the shipped deploy.toml with sections overridden."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from testinfra.host import Host

from deploylog import spec as spec_mod
from deploylog.hostchecks import hostio

ROOT = Path(__file__).resolve().parents[2]


def make_spec(**sections: dict[str, Any] | list[dict[str, Any]]) -> spec_mod.Spec:
    """A section given as a table updates the shipped one; an array of tables ([[modules]]) replaces it."""
    raw = tomllib.loads((ROOT / "deploy.toml").read_text())
    for name, values in sections.items():
        if isinstance(values, list):
            raw[name] = values
        else:
            raw.setdefault(name, {}).update(values)
    return spec_mod.build(raw, source="selftest")


# the local machine, passed explicitly as the `host` fixture is without --hosts
LOCAL: Host = hostio.local_host()
