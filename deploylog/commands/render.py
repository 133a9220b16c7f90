"""`deploylog render | status | verify`: the log from its state."""

from __future__ import annotations

import argparse

from deploylog.commands.common import add_report_dir, load_spec, report_dir
from deploylog.log import actions


def cmd_render(args: argparse.Namespace) -> int:
    for path in actions.render(load_spec(args), report_dir(args)).values():
        print(f"deploylog: wrote {path}")
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    print(actions.status_text(load_spec(args), report_dir(args)))
    return 0


def cmd_verify(args: argparse.Namespace) -> int:
    checks = actions.verify(load_spec(args), report_dir(args))
    for check in checks:
        print(check.line())
    if all(c.ok for c in checks):
        print("deploylog: verify OK — the log is exactly what its recorded results render")
        return 0
    print("deploylog: verify FAILED — the log was edited after the fact (or is stale: run `deploylog render`)")
    return 1


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("render", help="render execution-log.md/.html/.json again from the state")
    add_report_dir(p)
    p.set_defaults(func=cmd_render)
    p = sub.add_parser("status", help="short summary of the log: verdict, phases, sign-offs")
    add_report_dir(p)
    p.set_defaults(func=cmd_status)
    p = sub.add_parser("verify", help="recompute the digest; exit 1 if the log was edited after the fact")
    add_report_dir(p)
    p.set_defaults(func=cmd_verify)
