"""`deploylog render | status | verify`: the log from its state."""

from __future__ import annotations

import argparse

from deploylog.commands.common import Subparsers, add_command, echo
from deploylog.spec import Spec


def cmd_render(spec: Spec, args: argparse.Namespace) -> int:
    from deploylog.log import actions  # the renderers and Jinja2: only the commands that use them import them (start-up)

    for path in actions.render(spec).values():
        echo(f"deploylog: wrote {path}")
    return 0


def cmd_status(spec: Spec, args: argparse.Namespace) -> int:
    from deploylog.log import actions

    echo(actions.status_text(spec))
    return 0


def verify_report(spec: Spec) -> tuple[list[str], bool]:
    """verify's lines (one per check, then the conclusion) and whether everything held."""
    from deploylog.log import actions, signing

    checks = actions.verify(spec)
    return [c.line() for c in checks] + signing.conclusion(checks), all(c.ok for c in checks)


def cmd_verify(spec: Spec, args: argparse.Namespace) -> int:
    lines, ok = verify_report(spec)
    for line in lines:
        echo(line)
    return 0 if ok else 1


def register(sub: Subparsers) -> None:
    add_command(sub, "render", cmd_render, "render execution-log.md/.html/.json again from the state")
    add_command(sub, "status", cmd_status, "short summary of the log: verdict, phases, sign-offs")
    add_command(
        sub,
        "verify",
        cmd_verify,
        "recompute the digest, check every signature; exit 1 if the log was edited after the fact",
        description="Recompute the digest and re-render the log from its state; with [signing], check every event's "
        "signature against allowed_signers (signed by whom, unsigned, or BAD). Exit 1 when anything was edited.",
    )
