"""The numbers a check result carries, typed per kind of item.

The log draws charts and names the dump to restore from these, so their shape
is a contract between the engine and the log: one dataclass per kind, each
serialised with its `kind` so the log reads back exactly the type it was.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, ClassVar


class _Lookup:
    """Read a figure by key, as in the JSON (`result.figures["orphaned"]`)."""

    def to_dict(self) -> dict[str, Any]:
        raise NotImplementedError

    def __getitem__(self, key: str) -> Any:
        return self.to_dict()[key]

    def get(self, key: str, default: Any = None) -> Any:
        return self.to_dict().get(key, default)


@dataclass(frozen=True)
class Counts(_Lookup):
    """Named values of an item (the JSON's figures), with no special meaning to the log."""

    KIND: ClassVar[str] = "counts"
    values: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.KIND, **self.values}


@dataclass(frozen=True)
class Distribution(_Lookup):
    """Counts per label (4.5's approval_state over the window): drawn as bars."""

    KIND: ClassVar[str] = "distribution"
    counts: dict[str, int]
    values: dict[str, Any] = field(default_factory=dict)  # the other figures of the item

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.KIND, "counts": dict(self.counts), **self.values}


@dataclass(frozen=True)
class Comparison:
    """One figure before (baseline) and after the deployment."""

    label: str
    baseline: int | None
    current: int | None

    @property
    def difference(self) -> int | None:
        return None if self.baseline is None or self.current is None else self.current - self.baseline


@dataclass(frozen=True)
class Integrity(_Lookup):
    """A phase 5 item: counts compared with the baseline, and the protected set's fingerprint."""

    KIND: ClassVar[str] = "integrity"
    comparisons: tuple[Comparison, ...]
    fingerprint_set: str = ""
    fingerprint_changed: bool | None = None  # None: no fingerprint to compare
    changed_ids: int = 0
    added_ids: int = 0
    removed_ids: int = 0

    def to_dict(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data["comparisons"] = [dataclasses.asdict(c) for c in self.comparisons]
        return {"kind": self.KIND, **data}


@dataclass(frozen=True)
class Dump(_Lookup):
    """A database dump (P.2, 1.1): the file a rollback restores from, and what its header says."""

    KIND: ClassVar[str] = "dump"
    path: str
    size: int = 0
    sha256: str = ""
    values: dict[str, Any] = field(default_factory=dict)  # header fields, tables with data, ...

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.KIND, "path": self.path, "size": self.size, "sha256": self.sha256, **self.values}


Figures = Counts | Distribution | Integrity | Dump


def from_dict(data: dict[str, Any] | None) -> Figures:
    """The typed figures a result's `to_dict()` wrote (a dict without a kind reads as Counts)."""
    data = dict(data or {})
    kind = data.pop("kind", Counts.KIND)
    if kind == Distribution.KIND:
        return Distribution(counts=dict(data.pop("counts", {})), values=data)
    if kind == Integrity.KIND:
        comparisons = tuple(Comparison(**c) for c in data.pop("comparisons", []))
        return Integrity(comparisons=comparisons, **data)
    if kind == Dump.KIND:
        return Dump(path=data.pop("path", ""), size=data.pop("size", 0), sha256=data.pop("sha256", ""), values=data)
    return Counts(values=data)
