"""docs/deploy-toml.md is generated from the Spec's dataclasses: it must be the file the code renders now,
and every key must say what it means (a key added without its docstring line fails here)."""

from __future__ import annotations

import dataclasses
import subprocess
import sys

import pytest

from deploylog import spec, specdoc, waivers
from selftests.support.suite import REPO

REFERENCE = REPO / "docs" / "deploy-toml.md"


def test_the_committed_reference_is_the_generated_one():
    generated = subprocess.run(
        [sys.executable, "-m", "deploylog.specdoc"], cwd=REPO, capture_output=True, text=True, check=True
    ).stdout
    assert generated == REFERENCE.read_text(encoding="utf-8"), (
        "docs/deploy-toml.md is stale: run `.venv/bin/python -m deploylog.specdoc > docs/deploy-toml.md`"
    )


@pytest.mark.parametrize("cls", [*spec.SECTIONS.values(), *spec.ARRAYS.values(), waivers.Waiver], ids=lambda c: c.__name__)
def test_every_key_is_in_the_reference_with_its_meaning(cls):
    _, meaning = specdoc.meanings(cls)
    text = REFERENCE.read_text(encoding="utf-8")
    for field in dataclasses.fields(cls):
        assert meaning[field.name] and f"| `{field.name}` |" in text


def test_a_key_without_a_meaning_is_refused():
    @dataclasses.dataclass(frozen=True)
    class Section:
        """[section]: a section.

        documented: what it means
        """

        documented: str = ""
        forgotten: int = 0

    with pytest.raises(specdoc.UndocumentedKey, match=r"Section: keys without a meaning \['forgotten'\]"):
        specdoc.meanings(Section)


def test_the_readme_links_the_reference_and_the_page():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert "(docs/deploy-toml.md)" in readme and "(docs/write-your-own-check.md)" in readme
