"""The README's usage block as steps: each command line as written, and the deployment the comment stands for.

`.venv/bin/deploylog status | render | verify` is three commands; a line that is only a comment
(`# ... deploy: git pull, stop Odoo, ...`) is the operator's own work between two commands.
"""

from __future__ import annotations

import re
import shlex
import sys
from dataclasses import dataclass
from pathlib import Path

USAGE_HEADING = "## Using it on a real deployment"
VENV_BIN = ".venv/bin/"


@dataclass(frozen=True)
class Step:
    line: str  # the README line it comes from
    argv: tuple[str, ...] = ()  # empty for an operator's step (a comment-only line)

    @property
    def is_command(self) -> bool:
        return bool(self.argv)


def usage_block(readme: str) -> list[str]:
    """The lines of the first indented code block after the usage heading."""
    section = readme.split(USAGE_HEADING, 1)[1]
    block = re.search(r"\n\n((?: {4}.*\n|\n)+)", section)
    assert block is not None, "no indented code block under the usage heading"
    return [line.strip() for line in block.group(1).splitlines() if line.strip()]


def alternatives(tokens: list[str]) -> list[tuple[str, ...]]:
    """`cmd a | b | c` -> `cmd a`, `cmd b`, `cmd c` (the `|` separates alternatives, not a pipe)."""
    if "|" not in tokens:
        return [tuple(tokens)]
    groups: list[list[str]] = [[]]
    for token in tokens:
        if token == "|":
            groups.append([])
        else:
            groups[-1].append(token)
    head, first = groups[0][:-1], groups[0][-1:]
    return [tuple(head + alt) for alt in [first, *groups[1:]]]


def steps(readme: str) -> list[Step]:
    found: list[Step] = []
    for line in usage_block(readme):
        tokens = shlex.split(line, comments=True)
        if not tokens:
            found.append(Step(line))
            continue
        found.extend(Step(line, argv) for argv in alternatives(tokens))
    return found


def resolve(argv: tuple[str, ...], repo: Path) -> list[str]:
    """`.venv/bin/X` is the repository's venv, or the running interpreter's bin dir when it has none."""
    program = argv[0]
    if program.startswith(VENV_BIN) and not (repo / program).exists():
        program = str(Path(sys.executable).parent / program.removeprefix(VENV_BIN))
    return [program, *argv[1:]]
