"""`deploylog record | sign | incident | attach`: what a person adds to the log.

Each command records into the deployment's state file and re-renders the log.
"""

from __future__ import annotations

import argparse

from deploylog.commands.common import add_report_dir, load_spec, report_dir
from deploylog.log import actions, records
from deploylog.log.model import LogView


def _done(what: str, view: LogView, args: argparse.Namespace) -> int:
    print(f"deploylog: {what}")
    print(f"deploylog: log re-rendered in {report_dir(args) or view.meta.report_dir} (digest {view.digest[:16]}…)")
    print(view.verdict.line())
    return 0


def cmd_record(args: argparse.Namespace) -> int:
    view = actions.record_manual(
        load_spec(args), args.item, args.status, args.tester, args.notes, args.time, args.scheduled, report_dir(args)
    )
    return _done(f"recorded {args.item} {args.status.upper()} by {args.tester}", view, args)


def cmd_sign(args: argparse.Namespace) -> int:
    view = actions.sign(load_spec(args), args.role, args.name, args.decision, args.time, args.notes, report_dir(args))
    signed = f"{args.role} sign-off by {args.name}: {args.decision.upper()} (log digest {view.digest[:16]}…)"
    return _done(signed, view, args)


def cmd_incident(args: argparse.Namespace) -> int:
    view = actions.add_incident(
        load_spec(args),
        args.description,
        args.severity,
        args.resolution,
        args.approver,
        args.time,
        args.status,
        report_dir(args),
    )
    return _done(f"incident recorded ({args.severity})", view, args)


def cmd_attach(args: argparse.Namespace) -> int:
    spec = load_spec(args)
    for file in args.files:
        event = actions.attach(spec, file, args.kind, report_dir(args))
        print(f"deploylog: attached {event['path']} (sha256 {event['sha256']})")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("record", help="record a manual result (phase 7, P.1): ITEM PASS|FAIL --tester NAME")
    p.add_argument("item", help="log item, e.g. 7.1")
    p.add_argument("status", type=str.upper, choices=["PASS", "FAIL"])
    p.add_argument("--tester", required=True)
    p.add_argument("--notes", default="")
    p.add_argument("--time", default=None, help="when the test was done (ISO 8601; default now)")
    p.add_argument("--scheduled", default="", help="when it was scheduled (free text)")
    add_report_dir(p)
    p.set_defaults(func=cmd_record)

    p = sub.add_parser("sign", help="sign the log: ROLE NAME APPROVE|REJECT (verification: STABLE|ISSUES_FOUND)")
    p.add_argument("role", help=f"one of {', '.join(records.ROLES)}")
    p.add_argument("name")
    p.add_argument("decision", type=str.upper, help="APPROVE or REJECT; for verification STABLE or ISSUES_FOUND")
    p.add_argument("--time", default=None, help="ISO 8601; default now")
    p.add_argument("--notes", default="")
    add_report_dir(p)
    p.set_defaults(func=cmd_sign)

    p = sub.add_parser("incident", help="record an incident and its resolution")
    p.add_argument("--description", required=True)
    p.add_argument("--severity", required=True, type=str.capitalize, choices=list(records.SEVERITIES))
    p.add_argument("--resolution", default="")
    p.add_argument("--approver", default="")
    p.add_argument("--time", default=None, help="ISO 8601; default now")
    p.add_argument(
        "--status",
        default=None,
        choices=list(records.INCIDENT_STATUSES),
        help="default: Resolved when a resolution is given, else Pending",
    )
    add_report_dir(p)
    p.set_defaults(func=cmd_incident)

    p = sub.add_parser("attach", help="copy files into <report_dir>/attachments and record their sha256")
    p.add_argument("files", nargs="+")
    p.add_argument("--kind", default="other", choices=list(records.ATTACHMENT_KINDS))
    add_report_dir(p)
    p.set_defaults(func=cmd_attach)
