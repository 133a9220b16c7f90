"""What every subcommand shares: the suite's configuration options, the Spec they describe,
and the console (every line printed goes through redaction).

The options are the table in deploylog/options.py, the one pytest registers too. The CLI
takes them before the subcommand (`deploylog --dsn=X backup`) and after it (`deploylog
backup --dsn=X`); after wins, and `--set` accumulates from both places.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from deploylog import options
from deploylog.redact import redact
from deploylog.spec import Spec

if TYPE_CHECKING:  # the log's model: only the commands that record import it (start-up)
    from deploylog.log.model import LogView

# A subcommand's body: the Spec of this invocation and the parsed arguments -> exit code.
Run = Callable[[Spec, argparse.Namespace], int]
Subparsers = argparse._SubParsersAction  # argparse exports no public name for it

CONFIG_GROUP = "configuration (the suite's options: the same in `pytest --help`)"
# Options given before the subcommand are stored under this prefix, so a subcommand's own
# (given after it) do not overwrite them with their defaults.
BEFORE = "before_"
_BY_DEST = {option.dest: option for option in options.CONFIG_OPTIONS}


class Parser(argparse.ArgumentParser):
    """argparse, with its usage errors redacted (an unknown option may carry a password)."""

    def error(self, message: str) -> NoReturn:
        super().error(redact(message))


def config_options(*, before_subcommand: bool) -> Parser:
    """A parent parser holding the shared configuration options (shown in --help as one group)."""
    parent = Parser(add_help=False)
    group = parent.add_argument_group(CONFIG_GROUP)
    prefix = BEFORE if before_subcommand else ""
    for option in options.CONFIG_OPTIONS:
        group.add_argument(
            option.flag,
            dest=prefix + option.dest,
            action="append" if option.repeatable else "store",
            default=None,
            metavar=option.metavar or option.dest.upper(),
            help=option.help,
        )
    return parent


def option_value(args: argparse.Namespace, dest: str) -> Any:
    """A configuration option's value: after the subcommand wins over before it; --set adds up."""
    before = getattr(args, BEFORE + dest, None)
    after = getattr(args, dest, None)
    if _BY_DEST[dest].repeatable:
        return [*(before or []), *(after or [])]
    return after if after is not None else before


def getter(args: argparse.Namespace) -> options.Getter:
    """The options' values as deploylog/options.py reads them (by dest, as pytest's getoption)."""
    return lambda dest: option_value(args, dest)


def load_spec(args: argparse.Namespace) -> Spec:
    """The deployment this invocation describes, exactly as pytest would load it with the same options."""
    return options.load_spec(getter(args), Path.cwd())


def add_parser(sub: Subparsers, name: str, summary: str, description: str | None = None) -> Parser:
    """A subcommand's parser, with the configuration options (shown in its --help)."""
    parser: Parser = sub.add_parser(
        name,
        help=summary,
        description=description or summary,
        parents=[config_options(before_subcommand=False)],
    )
    return parser


def add_command(sub: Subparsers, name: str, run: Run, summary: str, description: str | None = None) -> Parser:
    """A subcommand that works on the deployment the options describe: `run` gets its Spec."""
    parser = add_parser(sub, name, summary, description)
    parser.set_defaults(func=lambda args: run(load_spec(args), args))
    return parser


def echo(text: str) -> None:
    """Print to the console, redacted: evidence and messages may quote a DSN."""
    print(redact(text), flush=True)


def one_line(text: str) -> str:
    return " ".join(part.strip() for part in str(text).splitlines() if part.strip())


def error(text: str) -> None:
    """The operator's one line on stderr, redacted."""
    print(redact(f"deploylog: error: {one_line(text)}"), file=sys.stderr, flush=True)


def warn(text: str) -> None:
    """A line the operator must not miss, on stderr, redacted."""
    print(redact(f"deploylog: {one_line(text)}"), file=sys.stderr, flush=True)


def recorded(what: str, view: LogView) -> int:
    """After a recording: what was recorded (and who signed it), where the re-rendered log is, the verdict now."""
    signed = view.signatures[-1] if view.signatures else None
    if signed is not None and signed.signed:
        what += f"; signed by {signed.principal} ({signed.fingerprint})"
    echo(f"deploylog: {what}")
    if signed is not None and signed.unsigned:
        warn(f"UNSIGNED — recorded without a signature ([signing] required = false): {signed.unsigned}")
    echo(f"deploylog: log re-rendered in {view.meta.report_dir} (digest {view.digest[:16]}…)")
    echo(view.verdict.line())
    return 0
