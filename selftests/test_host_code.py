"""Phase 2 (2.1-2.4) on real git repositories: PASS on the real deployment, FAIL on each fault."""

from __future__ import annotations

import compileall
from pathlib import Path

import pytest

from deploylog.demo import module_repo as hr
from deploylog.hostchecks import code
from selftests.support.host_spec import LOCAL, make_spec


@pytest.fixture
def checkout(tmp_path: Path):
    repo, before = hr.build_repo(tmp_path)
    spec = make_spec(paths={"repo": str(repo)}, deployment={"branch": "17.0"})
    return repo, before, spec


def test_healthy_deployment_passes_2_1_to_2_4(checkout):
    repo, before, spec = checkout
    after = hr.deploy(repo)
    r21 = code.git_pull(spec, before, LOCAL)
    assert r21.status == "PASS", r21.message
    assert before in r21.evidence and after in r21.evidence and "Payment Workflow Hardening" in r21.evidence
    r22 = code.changed_files(spec, before, LOCAL)
    assert r22.status == "PASS", r22.message
    assert "only 'version' changed ('17.0.1.0.8' -> '17.0.1.0.9')" in r22.evidence
    assert "manifest_policy = version-only" in r22.evidence
    r23 = code.syntax(spec, before, LOCAL)
    assert r23.status == "PASS", r23.message
    assert r23.figures["checked"] == 4  # the three files + the bumped manifest
    r24 = code.manifest_version(spec, LOCAL)
    assert r24.status == "PASS", r24.message
    assert "'version': '17.0.1.0.9'," in r24.evidence
    assert r21.host == "local"


def test_not_pulled_fails_2_1(checkout):
    _, before, spec = checkout
    r = code.git_pull(spec, before, LOCAL)
    assert r.status == "FAIL" and r.item == "2.1"
    assert "HEAD did not move" in r.message


def test_wrong_branch_fails_2_1(checkout):
    repo, before, spec = checkout
    hr.git(repo, "checkout", "-q", "-b", "hotfix")
    hr.deploy(repo)
    r = code.git_pull(spec, before, LOCAL)
    assert r.status == "FAIL" and "on branch 'hotfix', expected '17.0'" in r.message


def test_baseline_without_head_for_this_host_is_an_error_naming_the_way_out(checkout):
    _, _, spec = checkout
    for check in (code.git_pull, code.changed_files, code.syntax):
        r = check(spec, None, LOCAL)
        assert r.status == "ERROR", r
        assert "baseline records no HEAD before the deployment for host local" in r.message
        assert "same --hosts" in r.message and "[deployment] id" in r.message


def test_unexpected_fourth_file_fails_2_2(checkout):
    repo, before, spec = checkout
    hr.deploy(repo, extra={f"{hr.MODULE}/models/res_partner.py": "x = 1\n"})
    r = code.changed_files(spec, before, LOCAL)
    assert r.status == "FAIL" and r.item == "2.2"
    assert r.message.startswith("UNEXPECTED CHANGES")
    assert f"{hr.MODULE}/models/res_partner.py" in r.message


def test_missing_expected_file_fails_2_2(checkout):
    repo, before, spec = checkout
    hr.deploy(repo, replace={f"{hr.MODULE}/views/account_payment_views.xml": hr.VIEWS_OLD})
    r = code.changed_files(spec, before, LOCAL)
    assert r.status == "FAIL" and f"missing: {hr.MODULE}/views/account_payment_views.xml" in r.message


def test_manifest_change_beyond_version_fails_2_2(checkout):
    repo, before, spec = checkout
    manifest = hr.MANIFEST.format(version=hr.NEW_VERSION).replace("['account', 'mail']", "['account', 'mail', 'hr']")
    hr.deploy(repo, replace={f"{hr.MODULE}/__manifest__.py": manifest})
    r = code.changed_files(spec, before, LOCAL)
    assert r.status == "FAIL" and f"{hr.MODULE}/__manifest__.py" in r.message
    assert "keys other than 'version' changed: depends" in r.evidence


def test_manifest_policy_listed_requires_the_manifest_in_the_list(checkout):
    repo, before, _ = checkout
    hr.deploy(repo)
    listed = make_spec(paths={"repo": str(repo)}, expected={"manifest_policy": "listed"})
    assert code.changed_files(listed, before, LOCAL).status == "FAIL"
    files = [*hr.EXPECTED_FILES, f"{hr.MODULE}/__manifest__.py"]
    ok = make_spec(paths={"repo": str(repo)}, expected={"manifest_policy": "listed", "changed_files": files})
    assert code.changed_files(ok, before, LOCAL).status == "PASS"


def test_uncommitted_edit_fails_2_2(checkout):
    repo, before, spec = checkout
    hr.deploy(repo)
    (repo / hr.MODULE / "models" / "account_move.py").write_text(hr.MOVE_OLD)
    r = code.changed_files(spec, before, LOCAL)
    assert r.status == "FAIL" and "uncommitted" in r.message


def write_bytecode(repo: Path) -> list[Path]:
    """What Odoo's restart leaves in a checkout without a .gitignore: __pycache__/*.pyc beside every module file."""
    compileall.compile_dir(str(repo / hr.MODULE), quiet=1)
    stray = repo / hr.MODULE / "models" / "account_move.cpython-311.pyo"  # an old-style cache beside its source
    stray.write_bytes(b"\x00bytecode")
    written = sorted(repo.rglob("*.py[co]"))
    assert len(written) >= 4 and not (repo / ".gitignore").exists()
    return written


def test_bytecode_caches_written_after_the_restart_pass_2_2(checkout):
    repo, before, spec = checkout
    hr.deploy(repo)
    written = write_bytecode(repo)
    r = code.changed_files(spec, before, LOCAL)
    assert r.status == "PASS", r.message
    assert r.message == "4 FILES CHANGED as expected (+ manifest version bump)"
    assert f"Ignored {len(written)} bytecode cache file(s) (__pycache__/, *.pyc, *.pyo)" in r.evidence
    assert r.figures["uncommitted"] == [] and r.figures["bytecode_ignored"] == len(written)
    assert code.syntax(spec, before, LOCAL).status == "PASS"


def test_another_untracked_file_beside_the_bytecode_fails_2_2_naming_it(checkout):
    repo, before, spec = checkout
    hr.deploy(repo)
    write_bytecode(repo)
    (repo / hr.MODULE / "models" / "account_payment.py.orig").write_text("left by a merge\n")
    r = code.changed_files(spec, before, LOCAL)
    assert r.status == "FAIL" and r.item == "2.2"
    assert r.message == f"UNEXPECTED CHANGES - uncommitted: {hr.MODULE}/models/account_payment.py.orig"


def test_python_syntax_error_fails_2_3_with_file_and_line(checkout):
    repo, before, spec = checkout
    broken = hr.guard_code(hr.PAYMENT_NEW, "a.b", "base.group_system").replace("def write(self, vals):", "def write(self, vals)")
    hr.deploy(repo, replace={f"{hr.MODULE}/models/account_payment.py": broken})
    r = code.syntax(spec, before, LOCAL)
    assert r.status == "FAIL" and r.item == "2.3"
    line = broken.splitlines().index("    def write(self, vals)") + 1
    assert f"{hr.MODULE}/models/account_payment.py:{line}:" in r.message


def test_xml_syntax_error_fails_2_3_with_file_and_line(checkout):
    repo, before, spec = checkout
    broken = hr.VIEWS_NEW.replace("</record>", "</recrod>")
    hr.deploy(repo, replace={f"{hr.MODULE}/views/account_payment_views.xml": broken})
    r = code.syntax(spec, before, LOCAL)
    assert r.status == "FAIL"
    line = broken.splitlines().index("    </recrod>") + 1
    assert f"{hr.MODULE}/views/account_payment_views.xml:{line}:" in r.message


def test_version_not_bumped_fails_2_4(checkout):
    repo, _, spec = checkout
    hr.deploy(repo, bump=False)
    r = code.manifest_version(spec, LOCAL)
    assert r.status == "FAIL" and "WRONG VERSION" in r.message and "'17.0.1.0.8'" in r.message


def test_malformed_manifest_fails_2_4_without_executing_it(checkout, tmp_path):
    repo, _, spec = checkout
    canary = tmp_path / "executed"
    evil = f"{{'version': __import__('pathlib').Path({str(canary)!r}).write_text('x') and '17.0.1.0.9'}}\n"
    hr.write(repo, f"{hr.MODULE}/__manifest__.py", evil)
    r = code.manifest_version(spec, LOCAL)
    assert r.status == "FAIL" and "malformed manifest" in r.message
    assert not canary.exists()
    hr.write(repo, f"{hr.MODULE}/__manifest__.py", "{'version': '17.0.1.0.9',\n")
    r = code.manifest_version(spec, LOCAL)
    assert r.status == "FAIL" and "not valid Python" in r.message


def test_short_version_is_read_as_odoo_does(checkout):
    repo, _, spec = checkout
    hr.write(repo, f"{hr.MODULE}/__manifest__.py", hr.MANIFEST.format(version="1.0.9"))
    r = code.manifest_version(spec, LOCAL)
    assert r.status == "PASS" and "Odoo reads '1.0.9' as '17.0.1.0.9'" in r.evidence


def test_not_a_repository_fails_2_1(tmp_path):
    spec = make_spec(paths={"repo": str(tmp_path)})
    r = code.git_pull(spec, "0" * 40, LOCAL)
    assert r.status == "FAIL" and "not a readable git checkout" in r.message
