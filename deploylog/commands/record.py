"""`deploylog record | sign | incident | attach`: what a person adds to the log.

Each command records into the deployment's state file and re-renders the log.
"""

from __future__ import annotations

import argparse

from deploylog.commands.common import Subparsers, add_command, echo, recorded
from deploylog.errors import DeploylogError
from deploylog.log import records
from deploylog.spec import Spec

SIGN_FIELDS = ("role", "name", "decision")
SIGN_USAGE = "sign --role ROLE --name NAME --decision DECISION (or the short form: sign ROLE NAME DECISION)"

# `deploylog incident` options, as records.incident_event takes them
INCIDENT_FIELDS = ("description", "severity", "resolution", "approver", "time", "status")


def cmd_record(spec: Spec, args: argparse.Namespace) -> int:
    from deploylog.log import actions  # the renderers and Jinja2: only the commands that use them import them (start-up)

    view = actions.record_manual(spec, args.item, args.status, args.tester, args.notes, args.time, args.scheduled)
    return recorded(f"recorded {args.item} {args.status} by {args.tester}", view)


def signature(args: argparse.Namespace) -> tuple[str, str, str]:
    """(role, name, decision) from the options, or from the three positional words; never a mix."""
    given = tuple(getattr(args, field) for field in SIGN_FIELDS)
    if args.words and any(v is not None for v in given):
        raise DeploylogError(f"give the sign-off either as options or as three words, not both: {SIGN_USAGE}")
    if args.words:
        if len(args.words) != len(SIGN_FIELDS):
            raise DeploylogError(f"expected ROLE NAME DECISION, got {len(args.words)} word(s): {SIGN_USAGE}")
        given = tuple(args.words)
    missing = [f"--{field}" for field, value in zip(SIGN_FIELDS, given, strict=True) if not value]
    if missing:
        raise DeploylogError(f"missing {', '.join(missing)}: {SIGN_USAGE}")
    role, name, decision = given
    return role, name, decision.upper()


def cmd_sign(spec: Spec, args: argparse.Namespace) -> int:
    from deploylog.log import actions

    role, name, decision = signature(args)
    view = actions.sign(spec, role, name, decision, args.time, args.notes)
    return recorded(f"{role} sign-off by {name}: {decision} (log digest {view.digest[:16]}…)", view)


def cmd_incident(spec: Spec, args: argparse.Namespace) -> int:
    from deploylog.log import actions

    view = actions.add_incident(spec, **{name: getattr(args, name) for name in INCIDENT_FIELDS})
    return recorded(f"incident recorded ({args.severity})", view)


def cmd_attach(spec: Spec, args: argparse.Namespace) -> int:
    from deploylog.log import actions

    for file in args.files:
        event = actions.attach(spec, file, args.kind)
        echo(f"deploylog: attached {event['path']} (sha256 {event['sha256']})")
    return 0


def register(sub: Subparsers) -> None:
    p = add_command(sub, "record", cmd_record, "record a manual result (phase 7, P.1): ITEM PASS|FAIL --tester NAME")
    p.add_argument("item", help="log item, e.g. 7.1")
    p.add_argument("status", type=str.upper, choices=["PASS", "FAIL"])
    p.add_argument("--tester", required=True)
    p.add_argument("--notes", default="")
    p.add_argument("--time", default=None, help="when the test was done (ISO 8601; default now)")
    p.add_argument("--scheduled", default="", help="when it was scheduled (free text)")

    p = add_command(
        sub,
        "sign",
        cmd_sign,
        "sign the log: --role ROLE --name NAME --decision APPROVE|REJECT (verification: STABLE|ISSUES_FOUND)",
        description=f"Sign the log as it is now (the sign-off stores its digest; with [signing] it is signed with your key: "
        f"--signing-key=PATH, or your ssh-agent's key that allowed_signers lists). Usage: {SIGN_USAGE}.",
    )
    p.add_argument("--role", help=f'one of {", ".join(records.ROLES)}, or its title (e.g. "Finance Manager")')
    p.add_argument("--name", help="who signs")
    p.add_argument("--decision", help="APPROVE or REJECT; for the verification role STABLE or ISSUES_FOUND")
    p.add_argument("words", nargs="*", metavar="ROLE NAME DECISION", help="short form of --role, --name, --decision")
    p.add_argument("--time", default=None, help="ISO 8601; default now")
    p.add_argument("--notes", default="")

    p = add_command(sub, "incident", cmd_incident, "record an incident and its resolution")
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

    p = add_command(sub, "attach", cmd_attach, "copy files into <report_dir>/attachments and record their sha256")
    p.add_argument("files", nargs="+")
    p.add_argument("--kind", default="other", choices=list(records.ATTACHMENT_KINDS))
