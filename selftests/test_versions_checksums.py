"""4.9: the code on disk is the code the database was upgraded with, by click-odoo-update's own checksums.

The hash is checked against click-odoo-contrib's own function on a module folder with every case its
rules treat apart (bytecode, static/, tests/, .pot and .po files of other languages, links, empty and
non-ASCII files), locally and over ssh; the item is proven both ways on a real checkout and a real
ir_config_parameter row.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import testinfra
from click_odoo_contrib._addon_hash import addon_hash as click_odoo_addon_hash

from deploylog.demo import module_repo
from deploylog.hostchecks import checksums, hostio
from selftests.support.host_sshd import Sshd

KEY = "module_auto_update.installed_checksums"
RULES = {
    "default patterns, two active languages": (None, ["en_US", "ar_001"]),
    "default patterns, no active language": (None, []),
    "patterns set in the database": (" *.pyc, static/* ,i18n/*.pot,data/*.csv", ["fr_FR"]),
    "patterns set empty": ("", ["en_US"]),
}
EXTRA_FILES: dict[str, bytes] = {
    "models/__pycache__/account_payment.cpython-311.pyc": b"\x00\x01bytecode",
    "models/legacy.pyo": b"\x02",
    "i18n/fr.po": b'msgid "Payment"\nmsgstr "Paiement"\n',
    "i18n/ar.po": b'msgid "Payment"\nmsgstr "\xd8\xaf\xd9\x81\xd8\xb9"\n',
    "i18n/de_CH.po": b'msgid "Payment"\nmsgstr "Zahlung"\n',
    "i18n/payment_account_enhanced.pot": b'msgid "Payment"\n',
    "i18n_extra/fr_BE.po": b'msgid "Payment"\nmsgstr "Paiement (BE)"\n',
    "lib/i18n/de.po": b"# not directly in i18n/: always kept\n",
    "static/src/js/widget.js": b"export const x = 1;\n",
    "static/description/icon.png": bytes(range(256)),
    "tests/test_payment.py": b"def test_x():\n    pass\n",
    "lib/tests/helper.py": b"# tests/ below the top: hashed\n",
    "data/empty.xml": b"",
    "data/données été.csv": b"a,b\n",
    ".hidden": b"dotfile\n",
    "Z_upper.txt": b"Z\n",
    "a_lower.txt": b"a\n",
    "sub/dir/deep/file.txt": b"deep\n",
}


def module_folder(root: Path) -> Path:
    repo, _ = module_repo.build_repo(root)
    module = repo / module_repo.MODULE
    for rel, content in EXTRA_FILES.items():
        module_repo.write(module, rel, content)
    os.symlink("account_payment.py", module / "models" / "payment_link.py")  # a link to a file: read through
    os.symlink("models", module / "linked_models")  # a link to a folder: not entered
    return module


def their_hash(folder: Path, parameter: str | None, languages: list[str]) -> str:
    """click-odoo-update's checksum, by its own code (update.py _get_checksum_dir's arguments)."""
    patterns = checksums.DEFAULT_EXCLUDE_PATTERNS if parameter is None else parameter
    return click_odoo_addon_hash(str(folder), [p.strip() for p in patterns.split(",")], languages)


@pytest.mark.parametrize("rules", RULES)
def test_hash_is_click_odoo_contribs(tmp_path, rules):
    folder = module_folder(tmp_path)
    parameter, languages = RULES[rules]
    ours, files = checksums.addon_hash(hostio.local_host(), str(folder), checksums.Rules.of(parameter, languages))
    assert ours == their_hash(folder, parameter, languages)
    assert files > 10


def test_hash_changes_with_the_code_not_with_what_is_excluded(tmp_path):
    folder = module_folder(tmp_path)
    rules = checksums.Rules.of(None, ["en_US"])
    before, _ = checksums.addon_hash(hostio.local_host(), str(folder), rules)
    module_repo.write(folder, "tests/test_more.py", "x = 2\n")
    module_repo.write(folder, "i18n/fr.po", "changed, and French is not active\n")
    assert checksums.addon_hash(hostio.local_host(), str(folder), rules)[0] == before
    module_repo.write(folder, "data/empty.xml", " ")
    assert checksums.addon_hash(hostio.local_host(), str(folder), rules)[0] != before


@pytest.fixture(scope="module")
def remote(tmp_path_factory):
    reason = Sshd.unavailable()
    if reason:
        pytest.skip(f"ssh backend not testable here: {reason}")
    server = Sshd(tmp_path_factory.mktemp("sshd")).start()
    yield testinfra.get_host(server.hostspec, ssh_config=str(server.config))
    server.stop()


def test_hash_over_ssh_is_the_same(tmp_path, remote):
    folder = module_folder(tmp_path)
    parameter, languages = RULES["default patterns, two active languages"]
    rules = checksums.Rules.of(parameter, languages)
    assert not hostio.is_local(remote)
    assert checksums.addon_hash(remote, str(folder), rules)[0] == their_hash(folder, parameter, languages)


# --- the item, run by the suite on a real checkout and a real ir_config_parameter row ----------------


def recorded(deployment, odoo_db) -> tuple[Path, str]:
    """The deployment pulled and upgraded by click-odoo-update: it records the checksums of the installed addons."""
    repo = Path(deployment.config["paths"]["repo"])
    module_repo.deploy(repo)
    folder = repo / module_repo.MODULE
    checksum = their_hash(folder, None, ["ar_001", "en_US"])  # the generated database's active languages
    value = json.dumps({"base": "0" * 40, "account": "1" * 40, module_repo.MODULE: checksum})
    odoo_db.execute("INSERT INTO ir_config_parameter (key, value) VALUES (%s, %s)", (KEY, value))
    return folder, checksum


def test_code_that_was_upgraded_passes_4_9(deployment, odoo_db):
    folder, _ = recorded(deployment, odoo_db)
    module_repo.write(folder, "tests/test_after.py", "x = 1\n")  # excluded by click-odoo-update's rules
    module_repo.write(folder, "models/__pycache__/account_move.cpython-311.pyc", b"\x00")
    run = deployment.run("-m", "post", "--items", "4.9")
    assert run.status("4.9") == "PASS", run.output
    item = run.log()["items"]["4.9"]
    assert item["message"] == "code on disk matches the checksums click-odoo-update recorded for 1 module(s)"
    assert (
        "excluded: *.pyc, *.pyo, i18n/*.pot, i18n_extra/*.pot, static/*, tests/* (default); .po files kept for languages: ar, en"
        in (item["evidence"])
    )


def test_code_changed_after_the_upgrade_fails_4_9_naming_module_and_hashes(deployment, odoo_db):
    folder, checksum = recorded(deployment, odoo_db)
    module_repo.write(folder, "models/account_payment.py", (folder / "models/account_payment.py").read_text() + "# hotfix\n")
    now = their_hash(folder, None, ["ar_001", "en_US"])
    # another addon of the checkout, installed without click-odoo-update
    module_repo.write(folder.parent, "payment_extra/__manifest__.py", "{'name': 'Payment Extra', 'version': '17.0.1.0.0'}\n")
    odoo_db.execute("INSERT INTO ir_module_module (name, state, latest_version) VALUES ('payment_extra', 'installed', '17.0.1.0.0')")
    run = deployment.run("-m", "post", "--items", "4.9")
    assert run.status("4.9") == "FAIL", run.output
    assert run.message("4.9") == (
        f"[4.9] payment_account_enhanced: code on disk hashes to {now}, click-odoo-update recorded {checksum}; "
        "payment_extra: no checksum recorded (state 'installed': installed or upgraded without click-odoo-update?)"
    )
    assert now != checksum
