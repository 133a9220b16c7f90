"""`deploylog backup`: take the phase-1 backups (dump, module archive, snapshot marker).

Prints each file's size and sha256 for the log; --verify-restore restores the
dump into a scratch database and compares its counts with the baseline.
pg_dump's and the restore's progress go to stderr (a line redrawn on a
terminal, a plain line every 10 s otherwise); stdout holds the results only.
"""

from __future__ import annotations

import argparse
import sys

from deploylog.commands.common import Subparsers, add_command, echo
from deploylog.spec import Spec


def cmd_backup(spec: Spec, args: argparse.Namespace) -> int:
    from deploylog.hostchecks import take_backup

    verify = args.verify_restore or spec.database.verify_restore
    base = None
    if verify:  # before any backup is taken: the comparison needs the baseline
        from deploylog import baseline

        base = baseline.load(spec)
    taken = take_backup.take_backups(spec, backup_dir=args.backup_dir, dsn=spec.database.dsn, progress=sys.stderr)
    for t in taken:
        detail = f"  [{t.detail}]" if t.detail else ""
        echo(f"{t.kind:<8} {t.path}  {t.size / 1_048_576:.2f} MB ({t.size} bytes)  sha256 {t.sha256}{detail}")
    if verify:
        from deploylog.hostchecks import restore

        ok, text = restore.verify_against_baseline(
            spec, str(taken[0].path), admin_dsn=args.restore_dsn, base=base, progress=sys.stderr
        )
        echo(text)
        if not ok:
            echo("deploylog: restore verification FAILED: the dump does not match the baseline")
            return 1
        echo("deploylog: restore verification OK")
    return 0


def register(sub: Subparsers) -> None:
    p = add_command(sub, "backup", cmd_backup, "take the phase-1 backups: pg_dump ([backup] format), module archive, snapshot marker")
    p.add_argument(
        "--backup-dir",
        default=None,
        metavar="PATH",
        help="where to write the backups; overrides [paths] backup_dir (--dsn, --set ... as for every command)",
    )
    p.add_argument(
        "--verify-restore",
        action="store_true",
        help="restore the dump into a scratch database and compare its counts with the baseline "
        "(also when [database] verify_restore = true)",
    )
    p.add_argument(
        "--restore-dsn",
        default=None,
        metavar="DSN",
        help="server/role allowed to CREATE DATABASE for the scratch copy (default: [database] restore_dsn, else dsn)",
    )
