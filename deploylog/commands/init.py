"""`deploylog init`: write a starting deploy.toml for a deployment from its code and its database.

The module and its versions come from __manifest__.py at both refs (read as
literals), the expected changed files from the diff between them, the database's
name, Odoo version and the module's groups from the database (read-only), the
rest are defaults with a comment each. The file is validated as the suite loads
it before it is written, written atomically, and never over an existing file
without --force.
"""

from __future__ import annotations

import argparse
import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from deploylog import options
from deploylog import spec as spec_mod
from deploylog.commands.common import Subparsers, add_parser, echo, getter, warn
from deploylog.errors import DeploylogError
from deploylog.starter import code, database, template

if TYPE_CHECKING:  # imported where used: start-up (pytest --co, the CLI) needs none of it
    pass

DESCRIPTION = """\
Write a starting deploy.toml for deploying MODULE from the code at --from to the code at --to:
the module and its versions from __manifest__.py at both refs (read as literals, never run), the
expected changed files from `git diff --name-only FROM..TO`, the database's name and Odoo version
and the module's groups by XML id from the database (one read-only snapshot), defaults with a
comment for the rest, and commented examples of [[guards]], [[checks]], [waivers] and [[protect]].
Every value marked "check:" in the file is one to read before the first run.

The database is the one --dsn (or the PG* variables) reaches; --database, when given, must be it.
A password in --dsn is never written: keep it in ~/.pgpass. The file is --output, else
--deploy-config, $DEPLOYLOG_CONFIG or ./deploy.toml; an existing file is kept unless --force.
Other configuration options (--set section.key=value, --report-dir, ...) are written into it.

Exit codes: 0 written; 2 nothing written, one line says why (a bad ref, a manifest that is not a
literal, an unknown module, an unreachable database, an existing file, a bad option); 3 an
internal error (one line: report it). docs/init.md says what each value is taken from."""


def register(sub: Subparsers) -> None:
    parser = add_parser(
        sub,
        "init",
        "write a starting deploy.toml from the module's git repository, two refs and the database",
        description=DESCRIPTION,
    )
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.add_argument("--module", required=True, help="the module's technical name (its directory in the repository)")
    parser.add_argument("--repo", required=True, metavar="PATH", help="the git repository (addons checkout) holding the module")
    parser.add_argument("--from", dest="from_ref", required=True, metavar="REF", help="the code running now (branch, tag, commit)")
    parser.add_argument("--to", dest="to_ref", required=True, metavar="REF", help="the code the deployment brings")
    parser.add_argument("--output", default=None, metavar="PATH", help="the file to write (default: the deploy.toml the options name)")
    parser.add_argument("--force", action="store_true", help="replace the file if it exists")
    parser.add_argument(
        "--first-install",
        action="store_true",
        help="the deployment installs the module (not installed in the database yet): written as [deployment] first_install",
    )
    parser.set_defaults(func=run)


def written_dsn(dsn: str) -> tuple[str, bool]:
    """The dsn as deploy.toml keeps it: as given, without its password (and whether it had one)."""
    import psycopg
    from psycopg.conninfo import conninfo_to_dict, make_conninfo

    if not dsn:
        return "", False
    try:
        parts = conninfo_to_dict(dsn)
    except psycopg.ProgrammingError as exc:
        raise DeploylogError(f"invalid dsn: {exc}") from None
    if "password" not in parts:
        return dsn, False  # as the operator wrote it
    del parts["password"]
    return make_conninfo(**{k: str(v) for k, v in parts.items()}), True


def _first_install(module: str, facts: database.DatabaseFacts, declared: bool) -> None:
    """A first install is declared (--first-install), never guessed; the database must agree."""
    if facts.module_installed and declared:
        raise DeploylogError(
            f"--first-install, but {module} is {facts.module_state} in {facts.name} (latest_version {facts.module_version})"
        )
    if facts.module_installed or declared:
        return
    if facts.module_state is None:
        hint = f" (did you mean {' or '.join(facts.similar_modules)}?)" if facts.similar_modules else ""
        raise DeploylogError(
            f"unknown module {module!r} in database {facts.name}: no row in ir_module_module{hint}; "
            "give --first-install if this deployment installs it"
        )
    raise DeploylogError(
        f"{module} is {facts.module_state} in database {facts.name}: give --first-install if this deployment installs it"
    )


def write_atomically(path: Path, text: str, force: bool) -> None:
    """Write `text` to `path` in one step: a complete file or none; an existing file only with force."""
    if path.exists() and not force:
        raise DeploylogError(f"{path} exists: not overwritten (--force replaces it)")
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".partial", dir=path.parent)
    try:
        with os.fdopen(fd, "w") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        spec_mod.load(tmp)  # exactly as the suite loads it: a file that does not load is never written
        os.chmod(tmp, 0o644)
        if force:
            os.replace(tmp, path)
        else:
            os.link(tmp, path)  # fails if the file appeared meanwhile: never overwritten without --force
    except FileExistsError:
        raise DeploylogError(f"{path} exists: not overwritten (--force replaces it)") from None
    finally:
        Path(tmp).unlink(missing_ok=True)


def run(args: argparse.Namespace) -> int:
    get = getter(args)
    cwd = Path.cwd()
    output = cwd / args.output if args.output else options.config_path(get, cwd)
    if output.exists() and not args.force:  # before reading anything
        raise DeploylogError(f"{output} exists: not overwritten (--force replaces it)")
    overlay = options.overrides(get, cwd)  # a bad --set fails before git or the database is asked
    given = overlay.get("database", {})  # --dsn, --database, --set database.*=...
    dsn, had_password = written_dsn(str(given.get("dsn", "")))

    facts_code = code.read(Path(args.repo), args.module, args.from_ref, args.to_ref)
    facts_db = database.read(str(given.get("dsn", "")), str(given.get("name", "")), args.module)
    _first_install(args.module, facts_db, args.first_install)

    draft = template.draft(facts_code, facts_db, dsn, args.first_install, output)
    draft.apply(overlay)
    draft.apply({"database": {"dsn": dsn}})  # never a password, whichever option gave it
    try:
        spec_mod.build(draft.data(), source=str(output))
    except spec_mod.SpecError as exc:
        raise spec_mod.SpecError(f"{output}: {exc}") from None
    write_atomically(output, draft.text(), args.force)

    if had_password:
        warn("the password of --dsn is not written to deploy.toml: keep it in ~/.pgpass (or PGPASSWORD)")
    before = facts_code.before.version if facts_code.before else "(new)"
    echo(
        f"deploylog: wrote {output}: {args.module} {before} -> {facts_code.after.version}, "
        f"{len(facts_code.changed)} changed file(s), {facts_db.name} ({facts_db.odoo.label}), "
        f"{len(facts_db.groups)} group(s) of the module"
    )
    marked = draft.text().count(f"# {template.CHECK_MARK}")
    echo(f"deploylog: read the {marked} value(s) marked '{template.CHECK_MARK}', then: pytest -m phase0 --deploy-config={output}")
    return 0
