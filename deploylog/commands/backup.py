"""`deploylog backup`: take the phase-1 backups (dump, module archive, snapshot marker).

Prints each file's size and sha256 for the log; --verify-restore restores the
dump into a scratch database and compares its counts with the baseline.
"""

from __future__ import annotations

import argparse

from deploylog.commands.common import load_spec


def cmd_backup(args: argparse.Namespace) -> int:
    from deploylog.hostchecks import take_backup

    spec = load_spec(args)
    base = None
    if args.verify_restore:  # before any backup is taken: the comparison needs the baseline
        from deploylog import baseline

        base = baseline.load(spec)
    taken = take_backup.take_backups(spec, backup_dir=args.backup_dir, dsn=args.dsn)
    for t in taken:
        print(t.line())
    if args.verify_restore:
        from deploylog.hostchecks import restore

        ok, text = restore.verify_against_baseline(spec, str(taken[0].path), admin_dsn=args.restore_dsn, base=base)
        print(text)
        if not ok:
            print("deploylog: restore verification FAILED: the dump does not match the baseline")
            return 1
        print("deploylog: restore verification OK")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("backup", help="take the phase-1 backups: pg_dump -Fc, module archive, snapshot marker")
    p.add_argument("--backup-dir", default=None, help="overrides [paths] backup_dir")
    p.add_argument("--dsn", default=None, help="libpq connection for pg_dump; overrides [database] dsn")
    p.add_argument(
        "--verify-restore",
        action="store_true",
        help="restore the dump into a scratch database and compare its counts with the baseline",
    )
    p.add_argument(
        "--restore-dsn",
        default=None,
        help="server/role allowed to CREATE DATABASE for the scratch copy (default: [database] restore_dsn, else dsn)",
    )
    p.set_defaults(func=cmd_backup)
