"""Phase 4 code guards (4.2-4.4): found by name in the deployed code's AST, never by line number.

A guard passes when
  * the method named in deploy.toml ([[guards]] function = "Class.method") exists in the deployed file;
  * a `raise` of UserError / ValidationError / AccessError is reachable from it: in its own body, in a
    method of the same class it calls through `self`, or - for a predicate such as
    `_is_payment_reconciled` - in an `if` of a sibling method whose condition calls it;
  * every group XML id the guard names (has_group / user_has_groups / has_groups literals) exists in
    the database's ir_model_data as a res.groups record. `account.group_system` does not (the real one
    is `base.group_system`), so a guard naming it lets nobody through and is a finding.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from deploylog import odoo
from deploylog.access import did_you_mean
from deploylog.db import Snapshot, on_snapshot
from deploylog.hostchecks import hostio
from deploylog.result import CheckResult, failed, not_applicable, passed
from deploylog.spec import Guard, Spec

if TYPE_CHECKING:  # imported where used: start-up (pytest --co, the CLI) needs none of it
    from testinfra.host import Host

GUARD_EXCEPTIONS = frozenset({"UserError", "ValidationError", "AccessError", "AccessDenied", "RedirectWarning"})
GROUP_CALLS = frozenset({"has_group", "user_has_groups", "has_groups", "_has_group"})
MAX_DEPTH = 3  # helper chains deeper than this are not followed: the report would stop being reviewable


@dataclass
class Analysis:
    """What the AST says about one guard."""

    qualname: str
    lines: tuple[int, int] | None = None  # first, last line of the method
    raises: list[str] = field(default_factory=list)  # "Class.method:line raise UserError"
    groups: dict[str, list[str]] = field(default_factory=dict)  # xmlid -> where it is named
    error: str = ""


def _name_of(node: ast.AST | None) -> str:
    if isinstance(node, ast.Call):
        node = node.func
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return ""


def _guard_raises(node: ast.AST) -> list[ast.Raise]:
    return [n for n in ast.walk(node) if isinstance(n, ast.Raise) and _name_of(n.exc) in GUARD_EXCEPTIONS]


def _self_calls(node: ast.AST) -> set[str]:
    """Methods called as self.x(...) (or records.x(...)) inside a node."""
    return {
        n.func.attr
        for n in ast.walk(node)
        if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and isinstance(n.func.value, ast.Name)
    }


def _group_literals(node: ast.AST) -> Iterable[tuple[str, int]]:
    for call in ast.walk(node):
        if isinstance(call, ast.Call) and _name_of(call.func) in GROUP_CALLS:
            for arg in call.args:
                if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                    # user_has_groups takes "a.b,c.d" and "!a.b" for negation
                    for part in arg.value.split(","):
                        xmlid = part.strip().lstrip("!")
                        if xmlid:
                            yield xmlid, call.lineno


def _classes(tree: ast.Module, name: str) -> list[ast.ClassDef]:
    return [n for n in ast.walk(tree) if isinstance(n, ast.ClassDef) and n.name == name]


def _methods(cls: ast.ClassDef) -> dict[str, ast.FunctionDef | ast.AsyncFunctionDef]:
    return {n.name: n for n in cls.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))}


def _find(tree: ast.Module, function: str) -> tuple[ast.ClassDef | None, ast.AST | None, str]:
    """(class, function node, error) for 'Class.method' or a bare name."""
    if "." in function:
        cls_name, meth = function.rsplit(".", 1)
        classes = _classes(tree, cls_name)
        if not classes:
            return None, None, f"class {cls_name} not found"
        for cls in classes:
            if meth in _methods(cls):
                return cls, _methods(cls)[meth], ""
        return None, None, f"method {meth} not found in class {cls_name}"
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name == function:
            return None, node, ""
    owners = [c for c in ast.walk(tree) if isinstance(c, ast.ClassDef) and function in _methods(c)]
    if len(owners) == 1:
        return owners[0], _methods(owners[0])[function], ""
    if owners:
        return None, None, f"{function} is defined in several classes ({', '.join(c.name for c in owners)}): name one"
    return None, None, f"function {function} not found"


def _where(cls: ast.ClassDef | None, fn: Any, line: int) -> str:
    return f"{cls.name + '.' if cls else ''}{fn.name}:{line}"


def _reachable(cls: ast.ClassDef | None, fn: Any) -> list[tuple[Any, int]]:
    """fn and the same-class helpers it calls through self, breadth first, with their depth."""
    methods = _methods(cls) if cls else {}
    seen, order, queue = {fn.name}, [(fn, 0)], [(fn, 0)]
    while queue:
        node, depth = queue.pop(0)
        if depth >= MAX_DEPTH:
            continue
        for called in sorted(_self_calls(node)):
            if called in methods and called not in seen:
                seen.add(called)
                order.append((methods[called], depth + 1))
                queue.append((methods[called], depth + 1))
    return order


def _predicate_guards(cls: ast.ClassDef, fn: Any) -> list[tuple[Any, ast.If]]:
    """Sibling methods with `if <...fn(...)...>: ... raise UserError` (also via a variable set from fn)."""
    hits = []
    for other in _methods(cls).values():
        if other is fn:
            continue
        assigned = {
            t.id
            for a in ast.walk(other)
            if isinstance(a, ast.Assign) and fn.name in _self_calls(a.value)
            for t in a.targets
            if isinstance(t, ast.Name)
        }
        for node in ast.walk(other):
            if not isinstance(node, ast.If):
                continue
            names = {n.id for n in ast.walk(node.test) if isinstance(n, ast.Name)}
            uses_fn = fn.name in _self_calls(node.test) or names & assigned
            if uses_fn and any(_guard_raises(stmt) for stmt in node.body):
                hits.append((other, node))
    return hits


def analyse(source: bytes, function: str, label: str) -> Analysis:
    """Locate the guard and what it raises and names; never executes the code."""
    result = Analysis(qualname=function)
    try:
        tree = ast.parse(source, filename=label)
    except (SyntaxError, ValueError) as exc:
        result.error = f"{label} does not parse: {exc}"
        return result
    cls, fn, error = _find(tree, function)
    if fn is None:
        result.error = error
        return result
    assert isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef))
    start = min([fn.lineno, *(d.lineno for d in fn.decorator_list)])
    result.lines = (start, fn.end_lineno or fn.lineno)
    scanned = _reachable(cls, fn)
    for node, depth in scanned:
        via = "" if depth == 0 else " (helper called from the guard)"
        result.raises += [f"{_where(cls, node, r.lineno)} raise {_name_of(r.exc)}{via}" for r in _guard_raises(node)]
    if not result.raises and cls is not None:
        for caller, branch in _predicate_guards(cls, fn):
            scanned.append((caller, 0))
            for stmt in branch.body:
                result.raises += [
                    f"{_where(cls, caller, r.lineno)} raise {_name_of(r.exc)} (when {fn.name}() is true, if at line {branch.lineno})"
                    for r in _guard_raises(stmt)
                ]
    for node, _depth in scanned:
        for xmlid, line in _group_literals(node):
            result.groups.setdefault(xmlid, []).append(_where(cls, node, line))
    return result


@on_snapshot
def check_guard(spec: Spec, guard: Guard, snap: Snapshot, host: Host) -> CheckResult:
    """4.2-4.4 for one [[guards]] entry; the group XML ids it names are resolved in the session's snapshot."""
    name = hostio.host_name(host)
    item = guard.item
    module = spec.guard_module(guard)
    path = str(spec.module_dir_of(module) / guard.file)
    label = f"{module}/{guard.file}"
    queries = [f"ast.parse({path!r}) -> {guard.function}  # never executed"]
    try:
        source = hostio.read_bytes(host, path)
    except OSError:
        return failed(item, f"NOT FOUND: deployed file {path} is missing", queries=queries, host=name)
    found = analyse(source, guard.function, label)
    if found.error:
        return failed(
            item,
            f"NOT FOUND: {found.error} in {label}",
            queries=queries,
            host=name,
            evidence=f"Description: {guard.description}\nGuard Present: NO ({found.error})",
        )
    first, last = found.lines or (0, 0)
    lookup = odoo.groups(snap, found.groups) if found.groups else None
    resolved: dict[str, Any] = lookup.values if lookup else {}
    queries += lookup.queries if lookup else []
    unknown = [x for x, group in resolved.items() if not group["exists"]]
    lines = [
        f"Description: {guard.description or guard.function}",
        f"Code Location: {label}:{first}-{last}  ({guard.function})",
        "Guard Present: YES",
        "Test Method: AST of the deployed file (found by name, not by line number)",
        "",
        "Raises on the guarded path:",
        *([f"  {r}" for r in found.raises] or ["  (no raise of UserError/ValidationError/AccessError reachable)"]),
        "",
        "Groups named by the guard (resolved in ir_model_data):",
    ]
    for xmlid, where in sorted(found.groups.items()):
        group = resolved[xmlid]
        state = f"res.groups id {group['id']}" if group["exists"] else f"DOES NOT EXIST{did_you_mean(group['similar'])}"
        lines.append(f"  {xmlid}: {state}  [named at {', '.join(where)}]")
    if not found.groups:
        lines.append("  (none)")
    figures = {
        "file": label,
        "first_line": first,
        "last_line": last,
        "raises": len(found.raises),
        "groups": {k: v["id"] for k, v in resolved.items()},
        "unknown_groups": unknown,
    }
    problems = []
    if not found.raises:
        problems.append(f"{guard.function} raises no UserError/ValidationError/AccessError on any path")
    if unknown:
        problems.append(f"names group(s) that do not exist: {', '.join(unknown)}")
    evidence = "\n".join(lines)
    if problems:
        return failed(
            item, f"{label}:{first}-{last}: " + "; ".join(problems), evidence=evidence, queries=queries, figures=figures, host=name
        )
    return passed(
        item,
        f"VERIFIED: {guard.function} at {label}:{first}-{last} raises on the guarded path",
        evidence=evidence,
        queries=queries,
        figures=figures,
        host=name,
    )


def check_item(spec: Spec, item: str, snap: Snapshot, host: Host) -> CheckResult:
    """4.2-4.4: the guard deploy.toml names for this item; N/A when it names none."""
    guard = spec.guard_for(item)
    if guard is None:
        return not_applicable(item, f"no [[guards]] entry with item = {item!r} in deploy.toml")
    return check_guard(spec, guard, snap, host)
