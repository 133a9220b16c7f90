"""A real git repository holding a module in two versions, for the demo, the example and the self-tests.

A `ModuleSource` is a module's files before the deployment and the files the
deployment changes. `build_repo(root)` commits payment_account_enhanced at
17.0.1.0.8 on branch 17.0 and returns the pre-deployment HEAD; `deploy(repo)`
commits the 17.0.1.0.9 deployment that touches exactly the template's three
files plus the manifest's version. Another module (the example's:
deploylog/demo/sale_approval.py) passes its own source to `build_repo` and
`deploy_source`. Fault helpers edit the checkout the way a bad deployment would. A deployment of
several modules adds a second one (`add_second_module`, SECOND_MODULE) and bumps
its version (`set_version`) in the same deployment.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

MODULE = "payment_account_enhanced"
OLD_VERSION = "17.0.1.0.8"
NEW_VERSION = "17.0.1.0.9"
EXPECTED_FILES = [
    f"{MODULE}/models/account_payment.py",
    f"{MODULE}/models/account_move.py",
    f"{MODULE}/views/account_payment_views.xml",
]

MANIFEST = """\
# -*- coding: utf-8 -*-
{{
    'name': 'Payment Account Enhanced',
    'version': '{version}',
    'category': 'Accounting/Payment',
    'summary': 'Payment approval workflow, vouchers and posted-payment protection',
    'author': 'OSUS Properties',
    'license': 'LGPL-3',
    'depends': ['account', 'mail'],
    'data': [
        'security/payment_security.xml',
        'views/account_payment_views.xml',
    ],
    'installable': True,
    'application': False,
}}
"""

# The model's fields, the same before and after the deployment (only the methods change).
PAYMENT_CLASS = """\
class AccountPayment(models.Model):
    _inherit = "account.payment"

    approval_state = fields.Selection(
        [("draft", "Draft"), ("under_review", "Under Review"), ("for_approval", "For Approval"),
         ("for_authorization", "For Authorization"), ("approved", "Approved"), ("posted", "Posted"),
         ("cancelled", "Cancelled")],
        default="draft",
    )
    voucher_number = fields.Char(copy=False)
    remarks = fields.Text()
"""
PAYMENT_IMPORTS = """\
from odoo import _, api, fields, models
from odoo.exceptions import UserError
"""

PAYMENT_OLD = (
    PAYMENT_IMPORTS
    + "\n\n"
    + PAYMENT_CLASS
    + """
    def write(self, vals):
        return super().write(vals)
"""
)

PAYMENT_NEW = (
    PAYMENT_IMPORTS
    + """
PROTECTED_FIELDS = {"amount", "partner_id", "journal_id", "date", "currency_id"}


"""
    + PAYMENT_CLASS
    + '''
    def _is_payment_reconciled(self):
        """True when a bank reconciliation line references the payment's move."""
        self.ensure_one()
        lines = self.env["account.bank.reconciliation.line"].search([("move_id", "=", self.move_id.id)], limit=1)
        return bool(lines) or self.is_reconciled

    def _is_payment_manager(self):
        return self.env.user.has_group("{manager_group}")

    def write(self, vals):
        if PROTECTED_FIELDS & set(vals) and not self.env.user.has_group("{admin_group}"):
            for payment in self:
                if payment.state == "posted" and not payment._is_payment_manager():
                    raise UserError(_("Posted payment %s cannot be edited.", payment.name))
                if payment._is_payment_reconciled():
                    raise UserError(_("Reconciled payment %s cannot be edited.", payment.name))
        return super().write(vals)
'''
)

MOVE_OLD = """\
from odoo import _, fields, models
from odoo.exceptions import UserError


class AccountMove(models.Model):
    _inherit = "account.move"

    approval_state = fields.Selection(
        [("draft", "Draft"), ("under_review", "Under Review"), ("for_approval", "For Approval"),
         ("approved", "Approved"), ("posted", "Posted"), ("cancelled", "Cancelled")],
        default="draft",
    )
"""

MOVE_NEW = (
    MOVE_OLD
    + """
    def button_draft(self):
        for move in self:
            if move.state == "posted" and not self.env.user.has_group("{manager_group}"):
                raise UserError(_("Posted journal entry %s cannot be reset to draft.", move.name))
        return super().button_draft()
"""
)

VIEWS_OLD = """\
<?xml version="1.0" encoding="utf-8"?>
<odoo>
    <record id="view_account_payment_form_inherit" model="ir.ui.view">
        <field name="name">account.payment.form.approval</field>
        <field name="model">account.payment</field>
        <field name="inherit_id" ref="account.view_account_payment_form"/>
        <field name="arch" type="xml">
            <field name="ref" position="after">
                <field name="approval_state"/>
            </field>
        </field>
    </record>
</odoo>
"""

VIEWS_NEW = VIEWS_OLD.replace(
    '<field name="approval_state"/>',
    '<field name="approval_state"/>\n                <field name="voucher_number" readonly="state == \'posted\'"/>',
)

SECURITY = """\
<?xml version="1.0" encoding="utf-8"?>
<odoo>
    <record id="group_payment_manager" model="res.groups">
        <field name="name">Payment Manager</field>
    </record>
</odoo>
"""


@dataclass(frozen=True)
class ModuleSource:
    """One module's git history for a demo deployment: its files at the version installed before, and
    the files the deployment changes (paths relative to the module's directory; the manifest apart)."""

    module: str
    old_version: str
    new_version: str
    manifest: str  # __manifest__.py with a {version} placeholder
    old_files: dict[str, str]
    new_files: dict[str, str]  # what the deployment's commit writes (the manifest's version bump apart)
    title: str  # the deployment's commit message, after the version
    branch: str = "17.0"
    readme: str = "OSUS extra addons\n"

    @property
    def expected_files(self) -> list[str]:
        """The files the deployment changes, relative to the repository root ([expected] changed_files)."""
        return [f"{self.module}/{rel}" for rel in self.new_files]


PAYMENT = ModuleSource(
    module=MODULE,
    old_version=OLD_VERSION,
    new_version=NEW_VERSION,
    manifest=MANIFEST,
    old_files={
        "__init__.py": "from . import models\n",
        "models/__init__.py": "from . import account_move, account_payment\n",
        "models/account_payment.py": PAYMENT_OLD,
        "models/account_move.py": MOVE_OLD,
        "views/account_payment_views.xml": VIEWS_OLD,
        "security/payment_security.xml": SECURITY,
    },
    new_files={
        "models/account_payment.py": PAYMENT_NEW,
        "models/account_move.py": MOVE_NEW,
        "views/account_payment_views.xml": VIEWS_NEW,
    },
    title="Payment Workflow Hardening",
)


def git(repo: Path, *args: str) -> str:
    env_args = ["-c", "user.name=Deploy Bot", "-c", "user.email=deploy@example.com", "-c", "commit.gpgsign=false"]
    out = subprocess.run(["git", *env_args, "-C", str(repo), *args], check=True, capture_output=True, text=True)
    return out.stdout.strip()


def write(repo: Path, rel: str, text: str | bytes) -> None:
    path = repo / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text)


def guard_code(template: str, manager_group: str, admin_group: str) -> str:
    return template.replace("{manager_group}", manager_group).replace("{admin_group}", admin_group)


def build_repo(root: Path, source: ModuleSource = PAYMENT) -> tuple[Path, str]:
    """(repo, HEAD before the deployment): the module at its old version on its branch."""
    repo = root / "extra-addons"
    repo.mkdir(parents=True)
    git(repo, "init", "-q", "-b", source.branch)
    m = f"{source.module}/"
    write(repo, m + "__manifest__.py", source.manifest.format(version=source.old_version))
    for rel, text in source.old_files.items():
        write(repo, m + rel, text)
    write(repo, "README.md", source.readme)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", f"{source.module} {source.old_version}")
    return repo, git(repo, "rev-parse", "HEAD")


def deploy_source(
    repo: Path,
    source: ModuleSource,
    *,
    files: dict[str, str | bytes] | None = None,
    bump: bool = True,
    extra: dict[str, str | bytes] | None = None,
    replace: dict[str, str | bytes] | None = None,
) -> str:
    """Commit a module's deployment (what `git pull` brings); returns the new HEAD.

    files: the module's changed files (default: the source's new ones); extra: further files to change
    in the same commit, relative to the repository (a fault); replace: override a file's new content.
    """
    m = f"{source.module}/"
    changed: dict[str, str | bytes] = {m + rel: text for rel, text in (files or dict(source.new_files)).items()}
    if bump:
        changed[m + "__manifest__.py"] = source.manifest.format(version=source.new_version)
    changed.update(replace or {})
    changed.update(extra or {})
    for rel, text in changed.items():
        write(repo, rel, text)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", f"[{source.new_version}] {source.title}")
    return git(repo, "rev-parse", "HEAD")


def deploy(
    repo: Path,
    *,
    manager_group: str = f"{MODULE}.group_payment_manager",
    admin_group: str = "base.group_system",
    bump: bool = True,
    extra: dict[str, str | bytes] | None = None,
    replace: dict[str, str | bytes] | None = None,
) -> str:
    """Commit the payment module's 17.0.1.0.9 deployment, its guards naming these groups; returns the new HEAD."""
    files: dict[str, str | bytes] = {rel: guard_code(text, manager_group, admin_group) for rel, text in PAYMENT.new_files.items()}
    return deploy_source(repo, PAYMENT, files=files, bump=bump, extra=extra, replace=replace)


# A second module of the same addons repository, for deployments of several modules: a report model whose
# unlink is guarded (a [[guards]] entry with module = SECOND_MODULE).
SECOND_MODULE = "payment_reports"
SECOND_OLD_VERSION = "17.0.2.0.0"
SECOND_NEW_VERSION = "17.0.2.1.0"
SECOND_MANIFEST = """\
{{
    'name': 'Payment Reports',
    'version': '{version}',
    'depends': ['payment_account_enhanced'],
    'data': [],
    'installable': True,
    'license': 'LGPL-3',
}}
"""
REPORT_MODEL = """\
from odoo import _, models
from odoo.exceptions import UserError


class PaymentReport(models.Model):
    _name = "payment.report"
    _description = "Payment report"

    def unlink(self):
        if not self.env.user.has_group("account.group_account_manager"):
            raise UserError(_("Only accounting managers delete payment reports."))
        return super().unlink()
"""


def add_second_module(repo: Path, version: str = SECOND_OLD_VERSION) -> str:
    """Commit SECOND_MODULE at `version` (the state before the deployment); returns the new HEAD."""
    m = f"{SECOND_MODULE}/"
    write(repo, m + "__init__.py", "from . import models\n")
    write(repo, m + "models/__init__.py", "from . import payment_report\n")
    write(repo, m + "models/payment_report.py", REPORT_MODEL)
    write(repo, m + "__manifest__.py", SECOND_MANIFEST.format(version=version))
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", f"{SECOND_MODULE} {version}")
    return git(repo, "rev-parse", "HEAD")


def set_version(repo: Path, module: str, version: str) -> str:
    """Commit a new 'version' in a module's manifest (the line only); returns the new HEAD."""
    path = repo / module / "__manifest__.py"
    text = path.read_text()
    old = next(line for line in text.splitlines() if "'version':" in line)
    path.write_text(text.replace(old, f"    'version': '{version}',"))
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", f"[{version}] {module}")
    return git(repo, "rev-parse", "HEAD")
