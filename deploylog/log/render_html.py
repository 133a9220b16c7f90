"""LogView -> execution-log.html: one self-contained page (inline CSS and SVG,
no script, no external reference), printable, rendered with Jinja2 (autoescape on)."""

from __future__ import annotations

from importlib import resources
from typing import TYPE_CHECKING, Any

from markupsafe import Markup

from deploylog import catalogue, figures
from deploylog.log import charts, present, rules, signatures
from deploylog.log.model import LogView
from deploylog.log.records import ATTACHMENT_KINDS, ROLES, SEVERITIES, TEAM_ROLES
from deploylog.log.rules import CRITICAL_FAILURE, OVERALL_STATUSES

if TYPE_CHECKING:  # imported where used: start-up (pytest --co, the CLI) needs none of it
    from jinja2 import Environment


def _environment() -> Environment:
    from jinja2 import Environment, PackageLoader

    env = Environment(
        loader=PackageLoader("deploylog.log", "templates"),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["time"] = present.fmt_time
    env.globals.update(box=present.box, present=present, catalogue=catalogue, signatures=signatures, waiver_text=rules.waiver_text)
    return env


def _css() -> Markup:
    text = resources.files("deploylog.log").joinpath("templates/log.css").read_text(encoding="utf-8")
    return Markup(text)  # our own file, never user input


def workflow_chart(view: LogView) -> Markup:
    workflow = view.items.get("4.5")  # absent when the runbook does not hold it
    for typed in workflow.typed_figures() if workflow else []:
        if isinstance(typed, figures.Distribution):
            return Markup(charts.distribution(typed.counts, "4.5 workflow distribution (approval_state)"))
    return Markup("")


def integrity_chart(view: LogView) -> Markup:
    pairs: list[tuple[str, Any, Any]] = []
    for item in view.items_of_phase("5"):  # the items the [[protect]] sets feed
        for typed in item.typed_figures():
            if isinstance(typed, figures.Integrity):
                pairs += [(f"{item.item.id} {c.label}", c.baseline, c.current) for c in typed.comparisons]
    return Markup(charts.before_after(pairs, "Phase 5: baseline vs post-deployment"))


def render(view: LogView) -> str:
    template = _environment().get_template("execution-log.html.j2")
    return template.render(
        view=view,
        css=_css(),
        charts={"4.5": workflow_chart(view), "5": integrity_chart(view)},
        roles=ROLES,
        team_roles=TEAM_ROLES,
        severities=SEVERITIES,
        attachment_kinds=ATTACHMENT_KINDS,
        overall_statuses=OVERALL_STATUSES,
        closed=view.overall.status == CRITICAL_FAILURE,
        deploy_phases=("0", "1", "2", "3", "4", "5", "6"),
    )
