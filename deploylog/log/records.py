"""What a person records with the CLI (manual results, sign-offs, incidents,
attachments): the allowed values and the validated events."""

from __future__ import annotations

from typing import Any

from deploylog import catalogue
from deploylog.errors import DeploylogError
from deploylog.log.model import MANUAL_ITEMS
from deploylog.log.state import now_iso, parse_time
from deploylog.result import FAIL, PASS

# role key -> (title in the template, allowed decisions)
ROLES: dict[str, tuple[str, tuple[str, ...]]] = {
    "devops": ("DevOps/System Admin", ("APPROVE", "REJECT")),
    "finance": ("Finance Manager", ("APPROVE", "REJECT")),
    "qa": ("QA/Testing", ("APPROVE", "REJECT")),
    "verification": ("Post-Deployment Verification (24h later)", ("STABLE", "ISSUES FOUND")),
}
TEAM_ROLES = ("devops", "finance", "qa")
SEVERITIES = ("Critical", "High", "Medium", "Low")
INCIDENT_STATUSES = ("Resolved", "Pending")
# The template's attachment checklist: kind -> label.
ATTACHMENT_KINDS: dict[str, str] = {
    "backup-screenshot": "Backup verification screenshot",
    "version-screenshot": "Module version verification screenshot",
    "odoo-logs": "Odoo logs (last 100 lines)",
    "count-queries": "Database count verification queries output",
    "test-report": "Test execution report",
    "other": "Other",
}


def _time(value: str | None) -> str:
    return parse_time(value).isoformat() if value else now_iso()


def _text(name: str, value: str | None, required: bool = True) -> str:
    text = " ".join((value or "").split()) if name != "notes" else (value or "").strip()
    if required and not text:
        raise DeploylogError(f"{name} is required")
    return text


def _event(kind: str, time: str | None, notes: str, **fields: Any) -> dict[str, Any]:
    """An event a person records: its fields, when it happened, their notes, when it was recorded."""
    return {"type": kind, **fields, "time": _time(time), "notes": _text("notes", notes, required=False), "recorded": now_iso()}


def manual_event(item: str, status: str, tester: str, notes: str = "", time: str | None = None, scheduled: str = "") -> dict[str, Any]:
    if item not in catalogue.ITEMS:
        raise DeploylogError(f"unknown log item {item!r}")
    if item not in MANUAL_ITEMS:
        manual = ", ".join(sorted(MANUAL_ITEMS))
        raise DeploylogError(f"item {item} is decided by its test, not recorded by hand (manual items: {manual})")
    status = status.upper()
    if status not in (PASS, FAIL):
        raise DeploylogError(f"status must be PASS or FAIL, got {status!r}")
    return _event("manual", time, notes, item=item, status=status, tester=_text("tester", tester), scheduled=scheduled or "")


def signoff_event(role: str, name: str, decision: str, time: str | None = None, notes: str = "") -> dict[str, Any]:
    key = role.lower()
    if key not in ROLES:
        titles = {v[0].lower(): k for k, v in ROLES.items()}
        key = titles.get(key, "")
    if not key:
        raise DeploylogError(f"unknown role {role!r}; one of {', '.join(ROLES)}")
    title, decisions = ROLES[key]
    decision = decision.upper().replace("_", " ")
    if decision not in decisions:
        raise DeploylogError(f"{title} decides {' or '.join(decisions)}, got {decision!r}")
    return _event("signoff", time, notes, role=title, role_key=key, name=_text("name", name), decision=decision)


def incident_event(
    description: str,
    severity: str,
    resolution: str = "",
    approver: str = "",
    time: str | None = None,
    status: str | None = None,
) -> dict[str, Any]:
    severity = severity.capitalize()
    if severity not in SEVERITIES:
        raise DeploylogError(f"severity must be one of {', '.join(SEVERITIES)}, got {severity!r}")
    resolution = _text("resolution", resolution, required=False)
    status = (status or ("Resolved" if resolution else "Pending")).capitalize()
    if status not in INCIDENT_STATUSES:
        raise DeploylogError(f"incident status must be Resolved or Pending, got {status!r}")
    return {
        "type": "incident",
        "time": _time(time),
        "description": _text("description", description),
        "severity": severity,
        "resolution": resolution,
        "status": status,
        "approver": _text("approver", approver, required=False),
        "recorded": now_iso(),
    }


def attachment_kind(kind: str) -> str:
    if kind not in ATTACHMENT_KINDS:
        raise DeploylogError(f"attachment kind must be one of {', '.join(ATTACHMENT_KINDS)}, got {kind!r}")
    return kind
