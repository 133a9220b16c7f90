"""`deploylog` / `python -m deploylog`: the command line. Each subcommand lives in its own
module under deploylog/commands/ and exposes `register(subparsers)`; the configuration
options are the suite's (deploylog/options.py, through commands/common.py).
"""

from __future__ import annotations

import argparse
import importlib
import signal
import sys
import traceback

from deploylog.commands import common
from deploylog.errors import DeploylogError

# One module per subcommand group; each adds its parsers with common.add_command.
COMMAND_MODULES = (
    "deploylog.commands.backup",
    "deploylog.commands.demo",
    "deploylog.commands.init",
    "deploylog.commands.record",
    "deploylog.commands.render",
)
OPERATOR_ERROR = 2
INTERNAL_ERROR = 3
DESCRIPTION = """\
What is not a test: backups, manual results, sign-off, rendering, verification, the demo.

Every subcommand takes the suite's configuration options (--deploy-config, --dsn,
--set section.key=value, ...), before or after its name; `deploylog COMMAND --help`
lists them. Exit codes: 0 done; 1 the check the command ran failed (verify,
--verify-restore); 2 an operator error (bad option, config or input: one line says
what); 3 an internal error (one line: report it)."""


def build_parser() -> common.Parser:
    parser = common.Parser(
        prog="deploylog",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        parents=[common.config_options(before_subcommand=True)],
    )
    sub = parser.add_subparsers(dest="command", required=True)
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    return parser


def _where(exc: BaseException) -> str:
    """file:line where an unexpected exception was raised: enough to report it, no traceback."""
    frames = traceback.extract_tb(exc.__traceback__)
    return f"{frames[-1].filename}:{frames[-1].lineno}" if frames else "?"


def _stop_on_sigterm(signum: int, frame: object) -> None:
    """A service manager's stop (SIGTERM) unwinds like Ctrl-C: cleanups run, no `.partial` stays behind."""
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    try:
        return int(args.func(args))
    except KeyboardInterrupt:
        return 130
    except DeploylogError as exc:  # SpecError included: a problem the operator can act on
        common.error(str(exc))
        return OPERATOR_ERROR
    except OSError as exc:  # a file or directory the command cannot use
        common.error(f"{exc.strerror or exc}: {exc.filename}" if exc.filename else str(exc))
        return OPERATOR_ERROR
    except Exception as exc:  # one line for the operator, never a bare traceback
        common.error(f"internal error, please report it: {type(exc).__name__}: {exc} (at {_where(exc)})")
        return INTERNAL_ERROR


if __name__ == "__main__":
    sys.exit(main())
