"""T-24h checklist (P.2-P.7): what can be checked a day ahead from the database and the machine.

P.1 (users notified) is a human act, recorded with `deploylog record P.1 ...`.
The backup and service checks reuse the host modules, so the rules are the
same ones phases 1 and 3 apply.
"""

from __future__ import annotations

import posixpath
from typing import TYPE_CHECKING

from deploylog import access, fingerprint, odoo, protect, runbook
from deploylog.db import Snapshot, on_snapshot
from deploylog.errors import DeploylogError
from deploylog.hostchecks import backup, hostio, service
from deploylog.result import CheckResult, failed, verdict
from deploylog.spec import Spec

if TYPE_CHECKING:  # imported where used: start-up (pytest --co, the CLI) needs none of it
    from testinfra.host import Host

GB = 1024**3


def backups_verified(spec: Spec, host: Host, item: str = "P.2") -> CheckResult:
    """P.2: the newest existing dump in the backup directory is this database's, complete and readable."""
    return backup.database_dump(spec, None, host).replace(item=item)


def repository_access(spec: Spec, host: Host) -> CheckResult:
    """P.3: the checkout is a git repository on the expected branch, and its remote answers."""
    repo = spec.paths.repo
    name = hostio.host_name(host)
    if not repo:
        return failed("P.3", "paths.repo is not configured", host=name)
    commands = [["git", "-C", repo, "rev-parse", "--abbrev-ref", "HEAD"], ["git", "-C", repo, "remote"]]
    branch_out = hostio.run(host, commands[0])
    if branch_out.rc != 0:
        return failed(
            "P.3",
            f"{repo} is not a readable git repository: {branch_out.stderr.strip()}",
            queries=[hostio.shown(commands[0])],
            host=name,
        )
    branch = branch_out.stdout.strip()
    lines = [f"Repository: {repo}", f"Branch: {branch}"]
    problems = []
    if spec.deployment.branch and branch != spec.deployment.branch:
        problems.append(f"on branch {branch!r}, expected {spec.deployment.branch!r}")
    remotes = hostio.run(host, commands[1]).stdout.split()
    if remotes:
        probe = ["git", "-C", repo, "ls-remote", "--heads", remotes[0]]
        commands.append(probe)
        answer = hostio.run(host, probe)
        lines.append(f"Remote {remotes[0]}: " + ("reachable" if answer.rc == 0 else answer.stderr.strip()))
        if answer.rc != 0:
            problems.append(f"remote {remotes[0]} does not answer: {answer.stderr.strip().splitlines()[-1:]}")
    else:
        lines.append("Remote: none configured (deployment pulls from a local source)")
    message = "; ".join(problems) or f"git repository on branch {branch}"
    return verdict("P.3", not problems, message, evidence="\n".join(lines), queries=[hostio.shown(c) for c in commands], host=name)


def _existing(host: Host, path: str) -> str:
    """The path, or its nearest existing parent on the host (a backup dir may not exist yet)."""
    while path != posixpath.dirname(path) and not hostio.stat(host, path).exists:
        path = posixpath.dirname(path)
    return path


def disk_space(spec: Spec, host: Host) -> CheckResult:
    """P.4: free space above the threshold on every volume the deployment writes to, as the host's df sees it."""
    minimum = spec.thresholds.min_free_disk_gb
    log_dir = posixpath.dirname(spec.paths.log_file) if spec.paths.log_file else ""
    paths = sorted({p for p in (spec.paths.backup_dir, spec.paths.repo, log_dir) if p})
    measured = [_existing(host, p) for p in paths]
    argv = ["df", "-P", "-B1", *measured]
    out = hostio.run(host, argv)
    rows = out.stdout.splitlines()[1:]
    if out.rc != 0 or len(rows) != len(paths):
        raise DeploylogError(
            f"df on {hostio.host_name(host)} cannot measure {', '.join(measured)}: " + hostio.last_error(out, "no output")
        )
    lines, problems, volumes = [], [], {}
    for path, row in zip(paths, rows, strict=True):
        # Filesystem 1-blocks Used Available Capacity Mounted-on (the mount point may hold spaces)
        fields = row.split(None, 5)
        total, free = int(fields[1]), int(fields[3])
        free_gb = free / GB
        volumes[path] = round(free_gb, 1)
        lines.append(f"{path}: {free_gb:.1f} GB free of {total / GB:.1f} GB (on {fields[5]})")
        if free_gb <= minimum:
            problems.append(f"{path} has {free_gb:.1f} GB free (expected > {minimum} GB)")
    message = "; ".join(problems) or f"free space > {minimum} GB on {len(paths)} path(s)"
    return verdict(
        "P.4",
        not problems,
        message,
        evidence="\n".join(lines),
        queries=[hostio.shown(argv)],
        figures={"free_gb": volumes},
        host=hostio.host_name(host),
    )


def service_health(spec: Spec, snap: Snapshot, host: Host) -> CheckResult:
    """P.5: the database answers, and the Odoo service runs and answers its health URL."""
    name = hostio.host_name(host)
    version = snap.identity().server_version
    lines = [f"PostgreSQL: answers (server {version}, database {snap.identity().database})"]
    problems: list[str] = []
    queries = ["SELECT current_setting('server_version')"]
    if spec.service.manager != "none":
        state = service.read_state(spec, host)
        queries += state.queries
        lines.append(f"Service ({state.manager} {state.name}): {state.status}")
        if not state.running:
            problems.append(f"service {state.name} is not running")
    if spec.service.health_url:
        code, detail = service.http_get(host, spec.service.health_url, spec.service.http_timeout_s)
        queries.append(f"GET {spec.service.health_url}")
        lines.append(f"GET {spec.service.health_url} -> {code if code is not None else 'NO ANSWER'} {detail[:60]}")
        if code != 200:
            problems.append(f"health URL answered {code if code is not None else 'nothing'}")
    message = "; ".join(problems) or "database answers; Odoo service healthy"
    return verdict("P.5", not problems, message, evidence="\n".join(lines), queries=queries, host=name)


def _every_read(snap: Snapshot, spec: Spec) -> tuple[access.Reads, list[str]]:
    """What the items of this deployment's runbook read: their figures', and the columns the [[protect]] sets declare
    (their fragments, a table's columns); a set that cannot be resolved is listed as an error naming it."""
    reads, errors = odoo.every_read(snap, spec, runbook.holds(spec))
    for entry in spec.protect:
        try:
            reads = reads + protect.rows(snap, spec, entry).reads
            fingerprint.plan(snap, spec, entry)
        except DeploylogError as exc:
            errors.append(str(exc))
    return reads, list(dict.fromkeys(errors))


@on_snapshot
def read_access(spec: Spec, snap: Snapshot) -> CheckResult:
    """P.7: every table, column and function the run's figures read exists, and the connecting role may read it.

    The same declarations the figures are checked against before their SQL
    runs, all at once: a missing GRANT found the day before, not mid-deployment.
    """

    def check() -> tuple[access.Reads, list[str], list[access.Problem]]:
        reads, errors = _every_read(snap, spec)
        return reads, errors, snap.catalog.problems(reads)

    reads, errors, problems = snap.memo("read_access", check)
    role = snap.catalog.role
    columns = sum(len(cols) for cols in reads.tables.values())
    grants = list(dict.fromkeys(p.grant for p in problems if p.grant))
    # what the run reads depends on the Odoo version and layout: say which were detected
    lines = [
        f"Role: {role}",
        f"search_path schemas: {', '.join(snap.catalog.schemas) or '(none usable)'}",
        f"Schema: {odoo.describe(snap)}",
        "",
    ]
    lines += [f"{table}: {', '.join(cols)}" for table, cols in sorted(reads.tables.items())]
    lines += [f"function {f}" for f in reads.functions]
    if problems or errors:
        lines += ["", "Problems:", *(f"- {p.message}" for p in problems), *(f"- {e}" for e in errors)]
    if grants:
        lines += ["", "To fix, as the tables' owner:", *grants]
    summary = [p.message for p in problems if not p.grant] + errors
    if grants:
        summary.insert(0, f"role {role} lacks {len(grants)} privilege(s): run `{' '.join(grants)}`")
    message = "; ".join(summary) or (
        f"role {role} can read the {len(reads.tables)} tables ({columns} columns) and {len(reads.functions)} function(s) the run reads"
    )
    return verdict(
        "P.7",
        not summary,
        message,
        evidence="\n".join(lines),
        queries=[access.RELATIONS_SQL, access.FUNCTIONS_SQL],
        figures={"tables": len(reads.tables), "columns": columns, "missing_grants": grants},
    )
