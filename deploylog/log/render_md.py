"""LogView -> execution-log.md, section by section like the deployment template."""

from __future__ import annotations

import re

from deploylog.log import present, signatures
from deploylog.log.model import LogView
from deploylog.log.present import box, fmt_time
from deploylog.log.records import ATTACHMENT_KINDS, ROLES, SEVERITIES, TEAM_ROLES
from deploylog.log.rules import CRITICAL_FAILURE, OVERALL_STATUSES, ItemView, PhaseResult, waiver_text
from deploylog.result import ERROR, FAIL, MANUAL, NA, PASS, SKIP, WAIVED

BLANK = "_________________"
PREFLIGHT_NOT_DONE = {FAIL: "FAIL", ERROR: "ERROR", NA: "N/A", SKIP: "NOT RUN", MANUAL: "PENDING (manual)", WAIVED: "WAIVED"}
PHASE_ICONS = {"0": "🔍", "1": "💾", "2": "🚀", "3": "🔧", "4": "🧪", "5": "✅", "6": "📊", "7": "🧪"}
OVERALL_TEXT = {
    "COMPLETE SUCCESS": "✅ **COMPLETE SUCCESS** - All phases passed, all tests pass",
    "MINOR ISSUES": "⚠️ **MINOR ISSUES** - Most tests pass, non-critical issues found",
    "CRITICAL FAILURE": "❌ **CRITICAL FAILURE** - Rollback required",
}


def fence(text: str) -> str:
    """A code fence longer than any backtick run inside text."""
    longest = max((len(m) for m in re.findall(r"`+", text)), default=0)
    return "`" * max(3, longest + 1)


def cell(text: str) -> str:
    """Text safe for one Markdown table cell."""
    return " ".join(str(text).split()).replace("|", "\\|") or " "


def or_blank(text: str) -> str:
    return text if text else BLANK


def boxes(options: list[tuple[str, bool]]) -> str:
    return " ".join(f"{box(ticked)} {label}" for label, ticked in options)


def render(view: LogView) -> str:
    parts = [
        _header(view),
        _team(view),
        _preflight(view),
        *(_phase(view, p) for p in ("0", "1", "2", "3", "4", "5", "6")),
        _phase7(view),
        _final(view),
        _signoff(view),
        _incidents(view),
        _attachments(view),
        _footer(view),
    ]
    return "\n---\n\n".join(parts).rstrip() + "\n"


def _header(view: LogView) -> str:
    m = view.meta
    title = f"{m.title} ({m.module})" if m.title else m.module
    lines = [
        "# 📋 DEPLOYMENT EXECUTION LOG",
        f"**Module**: {title} v{m.expected_version}  ",
        *([f"**Modules**: {m.modules}  "] if m.modules else []),
        f"**Database**: {m.database}  ",
        *([f"**Odoo**: {view.odoo}  "] if view.odoo else []),
        f"**Deployment ID**: {m.deployment_id}  ",
        f"**Deployment Date**: {or_blank(present.fmt_date(view.window_start))}  ",
        f"**Deployment Time**: {or_blank(fmt_time(view.window_start))} - {or_blank(fmt_time(view.window_end))}  ",
        f"**Duration**: {_duration(view)}  ",
        f"**Verdict**: **{view.verdict.line()}**  ",
        *(f"**Not in this runbook**: {line}  " for line in view.not_in_runbook_lines),
    ]
    lines += [f"**⚠️ State set aside**: {present.set_aside_line(moved)}  " for moved in view.set_aside]
    return "\n".join(lines) + "\n"


def _duration(view: LogView) -> str:
    if view.duration_minutes is None:
        return "XX minutes (no run yet)"
    return f"{view.duration_minutes} minutes (first to last run of phases 0-6)"


def _team(view: LogView) -> str:
    lines = ["## 👤 DEPLOYMENT TEAM", "", "| Role | Name | Sign-off |", "|------|------|----------|"]
    for key in TEAM_ROLES:
        title = ROLES[key][0]
        signed = view.signoffs.get(title)
        if signed:
            mark = f"{box(True)} {signed['decision']} ({fmt_time(signed['time'])})"
            lines.append(f"| {title} | {cell(signed['name'])} | {cell(mark)} |")
        else:
            lines.append(f"| {title} | {BLANK} | {box(False)} |")
    return "\n".join(lines) + "\n"


def _preflight(view: LogView) -> str:
    lines = ["## 📋 PRE-DEPLOYMENT (T-24h)", "", "| Item | Completed | Notes |", "|------|-----------|-------|"]
    for v in view.items_of_phase("P"):
        done = box(True) if v.status == PASS else f"{box(False)} {PREFLIGHT_NOT_DONE.get(v.status, v.status)}"
        notes = f"{v.message} — WAIVED ({waiver_text(v)})" if v.status == WAIVED else v.message
        lines.append(f"| {v.item.id} {cell(v.item.title)} | {done} | {cell(notes)} |")
    result = view.phases["P"]
    lines += ["", f"**Pre-deployment Result**: {boxes(result.options)}" + _note(result)]
    return "\n".join(lines) + "\n"


def _note(result: PhaseResult) -> str:
    return f" — {result.note}" if result.note else ""


def _phase_times(result: PhaseResult) -> list[str]:
    return [
        f"**Start Time**: {or_blank(fmt_time(result.started))}  ",
        f"**End Time**: {or_blank(fmt_time(result.finished))}  ",
    ]


def _phase(view: LogView, phase: str) -> str:
    result = view.phases[phase]
    lines = [f"## {PHASE_ICONS[phase]} {result.title}", "", *_phase_times(result), ""]
    for v in view.items_of_phase(phase):
        lines.append(_block(v))
    line = f"**Phase {phase} Result**: {boxes(result.options)}"
    if result.severity_options:
        line += f" (Severity: {boxes(result.severity_options)})"
    lines.append(line + _note(result))
    return "\n".join(lines) + "\n"


def _block(v: ItemView) -> str:
    name = present.BLOCK_NAMES[v.item.phase]
    expected = [f"- {line}" for line in present.expected_lines(v)]
    body = ["Expected:", *expected, "", "Actual Result:", present.actual_result(v)]
    queries = present.queries(v)
    if queries:
        body += ["", "Query / Command:", *queries]
    suffix = present.status_suffix(v)
    body += ["", f"Status: {boxes(present.status_options(v))}" + (f" — {suffix}" if suffix else "")]
    text = "\n".join(body)
    f = fence(text)
    lines = [f"### {name} {v.item.id}: {v.item.title}", f"{f}text", text, f]
    if v.status == NA:
        lines.append(f"Not applicable: {v.message}")
    ran = present.ran_line(v)
    if ran:
        lines.append(f"Ran: {ran}  ")
    if v.attempts:
        lines.append("Earlier attempts:")
        lines += [f"- {present.attempt_line(a)}" for a in v.attempts]
    return "\n".join(lines) + "\n"


def _phase7(view: LogView) -> str:
    result = view.phases["7"]
    assigned = ", ".join(view.testers) or BLANK
    lines = [f"## {PHASE_ICONS['7']} {result.title}", "", f"**Manual Testing Assigned To**: {assigned}", ""]
    for v in view.items_of_phase("7"):
        item = v.item
        rec = v.manual or {}
        suffix = present.status_suffix(v)
        body = [
            f"Scheduled: {or_blank(rec.get('scheduled', ''))}",
            f"Status: {boxes(present.status_options(v))}" + (f" — {suffix}" if suffix else ""),
            f"Notes: {rec.get('notes') or (v.message if not rec else '') or BLANK}",
            f"Tester: {or_blank(rec.get('tester', ''))}",
        ]
        if rec:
            body.insert(2, f"Time: {fmt_time(rec.get('time', ''))}")
        text = "\n".join(body)
        f = fence(text)
        lines += [f"### Test {item.id}: {item.title}", f"{f}text", text, f]
        if v.attempts:
            lines.append("Earlier attempts:")
            lines += [f"- {present.attempt_line(a)}" for a in v.attempts]
        lines.append("")
    lines.append(f"**Phase 7 Result**: {boxes(result.options)}" + _note(result))
    return "\n".join(lines) + "\n"


def _final(view: LogView) -> str:
    o, s = view.overall, view.summary
    lines = ["## 📈 FINAL RESULTS", "", "**Overall Deployment Status**: ", ""]
    for status in OVERALL_STATUSES:
        lines.append(f"{box(o.ticked and o.status == status)} {OVERALL_TEXT[status]}")
    if not o.ticked:
        lines += ["", f"**Provisional**: {o.status} — {len(o.pending)} item(s) not decided yet: {', '.join(o.pending)}"]
    lines += ["", f"**Verdict**: **{view.verdict.line()}**", "", "### Summary"]
    body = [
        f"Total Duration: {view.duration_minutes if view.duration_minutes is not None else '__________'} minutes",
        f"Phases Completed: {s.phases_completed} / {s.phases_total}",
        f"Tests Passed: {s.tests_passed} / {s.tests_total}"
        f" (failed: {s.failed}, not applicable: {s.not_applicable}, not decided: {s.pending}"
        + (f", waived: {s.waived})" if s.waived else ")"),
        f"Critical Issues: {s.critical_issues}",
    ]
    if o.critical_issues:
        body += ["", "Critical issues:", *(f"{n}. {text}" for n, text in enumerate(o.critical_issues, 1))]
    body += ["", "Issues Found:"]
    body += [f"{n}. {text}" for n, text in enumerate(o.issues, 1)] or ["None"]
    if o.not_applicable:
        body += ["", "Not Applicable:", *(f"{n}. {text}" for n, text in enumerate(o.not_applicable, 1))]
    if o.waived:
        body += ["", "Waived:", *(f"{n}. {text}" for n, text in enumerate(o.waived, 1))]
    if view.waivers:
        body += ["", f"Waivers ({view.waivers[0].get('file', '')}):", *(f"- {present.waiver_line(w)}" for w in view.waivers)]
    text = "\n".join(body)
    f = fence(text)
    lines += [f"{f}text", text, f, "", "### Deployment Quality Score", ""]
    lines += ["| Aspect | Score | Notes |", "|--------|-------|-------|"]
    closed = o.status == CRITICAL_FAILURE
    for score in view.scores:
        decided = score.value is not None and (score.final or closed)
        options = " ".join(f"{box(decided and score.value == n)} {n}/5" for n in range(5, 0, -1))
        notes = score.notes
        if score.value is not None and not decided:
            notes = f"provisional {score.value}/5: {notes}"
        if score.aspect == "Overall":
            lines.append(f"| **Overall** | **{options}** | {cell(notes)} |")
        else:
            lines.append(f"| {score.aspect} | {options} | {cell(notes)} |")
    return "\n".join(lines) + "\n"


def _signoff(view: LogView) -> str:
    lines = ["## ✍️ SIGN-OFF", ""]
    for key, (title, decisions) in ROLES.items():
        signed = view.signoffs.get(title) or {}
        lines.append(f"### {title}")
        who = "Reviewed By" if key == "verification" else "Name"
        lines.append(f"- {who}: {or_blank(signed.get('name', ''))}")
        lines.append(f"- Date/Time: {or_blank(fmt_time(signed.get('time', '')))}")
        lines.append(f"- Status: {boxes([(d, signed.get('decision') == d) for d in decisions])}")
        if key == "verification" or signed.get("notes"):
            lines.append(f"- Notes: {or_blank(signed.get('notes', ''))}")
        lines.append(f"- Signature: {present.signature_text(signed, view.signatures) if signed else BLANK}")
        lines.append("")
    earlier = [s for s in view.signoff_history if view.signoffs.get(s["role"]) is not s]
    if earlier:
        lines.append("Earlier sign-offs (replaced by a later one of the same role):")
        lines += [f"- {s['role']}: {s['name']} {s['decision']} at {fmt_time(s['time'])}" for s in earlier]
    return "\n".join(lines) + "\n"


def _incidents(view: LogView) -> str:
    lines = ["## 📝 INCIDENTS & RESOLUTIONS", ""]
    if not view.incidents:
        lines.append("No incidents recorded (record one with `deploylog incident`).")
    for n, inc in enumerate(view.incidents, 1):
        lines += [
            f"### Incident {n}",
            f"**Time**: {fmt_time(inc['time'])}  ",
            f"**Description**: {inc['description']}  ",
            f"**Severity**: {boxes([(s, inc['severity'] == s) for s in SEVERITIES])}  ",
            f"**Resolution**: {or_blank(inc['resolution'])}  ",
            f"**Status**: {boxes([(s, inc['status'] == s) for s in ('Resolved', 'Pending')])}  ",
            f"**Approver**: {or_blank(inc['approver'])}",
            "",
        ]
    return "\n".join(lines) + "\n"


def _attachments(view: LogView) -> str:
    lines = ["## 📎 ATTACHMENTS", ""]
    for kind, label in ATTACHMENT_KINDS.items():
        files = [a for a in view.attachments if a["kind"] == kind]
        if kind == "other" and not files:
            continue
        if not files:
            lines.append(f"- {box(False)} {label}")
        for a in files:
            lines.append(f"- {box(True)} {label}: `{a['path']}` ({a['size']} bytes, sha256 {a['sha256']})")
    return "\n".join(lines) + "\n"


def _listed_signatures(view: LogView) -> list[signatures.EventSignature]:
    """Who signed each event, listed when anything is signed (an unsigned log says so in one sentence)."""
    return view.signatures if any(s.signed for s in view.signatures) else []


def _footer(view: LogView) -> str:
    lines = [
        f"**Document Saved**: {or_blank(fmt_time(view.saved))}  ",
        "**Retention Period**: 12 months  ",
        f"**Archive Location**: {view.meta.report_dir}  ",
        f"**Log digest (sha256)**: `{view.digest}`  ",
        f"**Baseline**: {view.baseline.note}" + (f" (`{view.baseline.digest}`)" if view.baseline.digest else "") + "  ",
        f"**Signatures**: {signatures.statement(view.signatures)}",
        *(f"- {s.line()}" for s in _listed_signatures(view)),
        "",
        "### Runs",
        "",
        "| Run | Started | Finished | Command | Host | Exit | Results |",
        "|-----|---------|----------|---------|------|------|---------|",
    ]
    for run in view.runs:
        counts = ", ".join(f"{k} {v}" for k, v in sorted(run.counts.items()))
        lines.append(
            f"| {run.number} | {fmt_time(run.started)} | {fmt_time(run.finished)} | {cell(run.command)} | "
            f"{cell(run.hostname)} | {run.exit_status} | {cell(counts)} |"
        )
    if not view.runs:
        lines.append("| - | | | no run yet | | | |")
    lines += ["", "_Verify with `deploylog verify`: it recomputes the digest and re-renders the log from its state._"]
    return "\n".join(lines) + "\n"
