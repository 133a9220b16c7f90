"""Every row of the deployment template, as data: id, phase, title, severity.

The log renderer, the markers and the quality scores all read this table, so
an item is described in exactly one place.
"""

from __future__ import annotations

from dataclasses import dataclass

CRITICAL = "critical"
HIGH = "high"
MEDIUM = "medium"
LOW = "low"

# Phase numbers as the template names them; "P" is the T-24h preflight list.
PHASES: dict[str, str] = {
    "P": "PRE-DEPLOYMENT (T-24h)",
    "0": "PHASE 0: PRE-DEPLOYMENT VALIDATION",
    "1": "PHASE 1: BACKUP EXECUTION",
    "2": "PHASE 2: CODE DEPLOYMENT",
    "3": "PHASE 3: SERVICE RESTART",
    "4": "PHASE 4: FUNCTIONAL TESTS",
    "5": "PHASE 5: DATA INTEGRITY VERIFICATION",
    "6": "PHASE 6: LOG ANALYSIS",
    "7": "PHASE 7: POST-DEPLOYMENT TESTING (Manual - Next 24h)",
}

# Quality-score aspects of the template's "Deployment Quality Score" table.
ASPECTS = ("Code Deployment", "Data Integrity", "Service Health", "Functional Tests", "Log Analysis")


@dataclass(frozen=True)
class Item:
    id: str
    phase: str
    title: str
    expected: str
    severity: str
    aspect: str

    @property
    def marker(self) -> str:
        return "preflight" if self.phase == "P" else f"phase{self.phase}"

    @property
    def is_post(self) -> bool:
        return self.phase in {"1", "2", "3", "4", "5", "6"}


_ROWS = [
    ("P.1", "Users notified of maintenance window", "Recorded by the operator (manual)", LOW, "Service Health"),
    ("P.2", "All database backups verified", "Latest dump in the backup dir is readable by pg_restore", HIGH, "Data Integrity"),
    (
        "P.3",
        "Code repository access confirmed",
        "Module checkout is a git repository on the expected branch",
        MEDIUM,
        "Code Deployment",
    ),
    (
        "P.4",
        "System disk space checked",
        "Free space on the backup and data volumes above the threshold (default 10 GB)",
        HIGH,
        "Service Health",
    ),
    (
        "P.5",
        "Odoo service health check",
        "Database answers; Odoo service/health URL answers when configured",
        MEDIUM,
        "Service Health",
    ),
    ("P.6", "Payment Manager group verified", "Payment Manager group has >= 1 active member", MEDIUM, "Functional Tests"),
    (
        "P.7",
        "Database read access verified",
        "The connecting role can read every table and column the run reads",
        HIGH,
        "Data Integrity",
    ),
    (
        "0.1",
        "Payment State Distribution",
        "Posted payments > 100; posted invoices > 50; no NULL approval_state",
        CRITICAL,
        "Data Integrity",
    ),
    (
        "0.2",
        "Reconciliation Integrity",
        "reconciliation_lines = with_move = with_reconciliation; orphaned = 0",
        CRITICAL,
        "Data Integrity",
    ),
    (
        "0.3",
        "Reconciled Payments Baseline",
        "Baseline recorded; this number should NOT CHANGE after deployment",
        CRITICAL,
        "Data Integrity",
    ),
    (
        "0.4",
        "User Permissions",
        "Payment Manager group exists with >= 1 active member; Reviewer and Approver groups exist",
        HIGH,
        "Functional Tests",
    ),
    (
        "1.1",
        "Database Dump",
        "Dump exists, newer than phase 0, pg_restore --list reads it, holds the protected tables' data",
        CRITICAL,
        "Data Integrity",
    ),
    ("1.2", "Code Backup", "Archive of the module exists, is readable and holds __manifest__.py", HIGH, "Code Deployment"),
    ("1.3", "Snapshot Marker", "Snapshot marker file exists", LOW, "Data Integrity"),
    ("2.1", "Git Pull", "On the expected branch; HEAD moved from the baseline's HEAD", HIGH, "Code Deployment"),
    ("2.2", "File Changes Verification", "Changed files equal the expected set", HIGH, "Code Deployment"),
    ("2.3", "Syntax Checks", "Every changed .py compiles and every changed .xml parses", CRITICAL, "Code Deployment"),
    ("2.4", "Version Verification", "__manifest__.py version equals the expected version", CRITICAL, "Code Deployment"),
    ("3.1", "Stop Odoo", "Service was stopped after phase 0 (its current start is after phase 0)", HIGH, "Service Health"),
    ("3.2", "Clear Cache", "Configured cache paths are gone or empty", MEDIUM, "Service Health"),
    ("3.3", "Start Odoo", "Service is active (running)", CRITICAL, "Service Health"),
    ("3.4", "Startup Verification", "Health URL answers; no module errors in the log since the restart", HIGH, "Service Health"),
    ("4.1", "Module Loaded", "state = installed and latest_version = expected version", CRITICAL, "Functional Tests"),
    (
        "4.2",
        "Posted Payment Protection (Code-level)",
        "Guard present in the deployed code and raises on the guarded path",
        HIGH,
        "Functional Tests",
    ),
    (
        "4.3",
        "Journal Entry Reset Protection",
        "Guard present in the deployed code and raises on the guarded path",
        HIGH,
        "Functional Tests",
    ),
    (
        "4.4",
        "Reconciliation Protection",
        "Guard present in the deployed code and raises on the guarded path",
        HIGH,
        "Functional Tests",
    ),
    (
        "4.5",
        "Workflow Distribution",
        "approval_state counts over the window; no NULLs, no unknown values, posted payments posted",
        MEDIUM,
        "Functional Tests",
    ),
    ("4.6", "Payment Manager Group", "Payment Manager group has >= 1 active member", MEDIUM, "Functional Tests"),
    ("4.7", "No Orphaned Records", "Orphaned reconciliation lines = 0", HIGH, "Data Integrity"),
    ("5.1", "Payment Count", "Post - baseline = 0 and fingerprint unchanged", CRITICAL, "Data Integrity"),
    ("5.2", "Posted Invoices Count", "Post - baseline = 0 and fingerprint unchanged", CRITICAL, "Data Integrity"),
    ("5.3", "Reconciliation Count", "Post - baseline = 0 and fingerprint unchanged", CRITICAL, "Data Integrity"),
    (
        "5.4",
        "Reconciled Payments Count",
        "Post - baseline = 0 (CRITICAL - should never decrease), fingerprint unchanged",
        CRITICAL,
        "Data Integrity",
    ),
    ("6.1", "Error Count", "ERROR/CRITICAL lines since the deployment started = 0", MEDIUM, "Log Analysis"),
    ("6.2", "Payment Module Errors", "No ERROR lines from the module since the deployment started", HIGH, "Log Analysis"),
    ("6.3", "Critical Error Details", "Full tracebacks of the errors found (none expected)", MEDIUM, "Log Analysis"),
    ("7.1", "Regular User Edit Restriction", "Recorded by a tester", HIGH, "Functional Tests"),
    ("7.2", "Manager Override", "Recorded by a tester", MEDIUM, "Functional Tests"),
    ("7.3", "New Payment Workflow", "Recorded by a tester", HIGH, "Functional Tests"),
    ("7.4", "Reconciled Payment Protection", "Recorded by a tester", HIGH, "Functional Tests"),
    ("7.5", "Print Voucher Button", "Recorded by a tester", LOW, "Functional Tests"),
]

ITEMS: dict[str, Item] = {
    row[0]: Item(id=row[0], phase=row[0].split(".")[0], title=row[1], expected=row[2], severity=row[3], aspect=row[4]) for row in _ROWS
}

MARKERS: dict[str, str] = {
    "preflight": "T-24h checklist (items P.x)",
    **{f"phase{n}": PHASES[str(n)] for n in range(8)},
    "post": "after the deployment: phases 1-6, diffed against the baseline",
}


def item(item_id: str) -> Item:
    """The catalogue entry for an id, with a clear error for a typo."""
    try:
        return ITEMS[item_id]
    except KeyError:
        raise KeyError(f"unknown log item {item_id!r}; known: {', '.join(ITEMS)}") from None


def items_of_phase(phase: str) -> list[Item]:
    return [i for i in ITEMS.values() if i.phase == phase]
