"""`deploylog` / `python -m deploylog`: what is not a test (backups, manual results,
sign-off, rendering, verification, the demo). Each subcommand lives in its own
module under deploylog/commands/ and exposes `register(subparsers)`."""

from __future__ import annotations

import argparse
import importlib
import sys

# One module per subcommand group; each adds its parsers and sets `func`.
COMMAND_MODULES = (
    "deploylog.commands.backup",
    "deploylog.commands.demo",
    "deploylog.commands.record",
    "deploylog.commands.render",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="deploylog", description=__doc__)
    parser.add_argument("--deploy-config", default="deploy.toml", help="deployment description (default: deploy.toml)")
    sub = parser.add_subparsers(dest="command", required=True)
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # one line for the operator, never a bare traceback
        from deploylog.errors import DeploylogError
        from deploylog.spec import SpecError

        if isinstance(exc, (DeploylogError, SpecError)):
            print(f"deploylog: error: {exc}", file=sys.stderr)
            return 2
        raise


if __name__ == "__main__":
    sys.exit(main())
