"""Signed runs and sign-offs (issue 13): real ed25519 keys made by ssh-keygen, real `ssh-keygen -Y`
signatures and verification, an allowed_signers file, an ssh-agent; the CLI driven in process."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import re
import time
from pathlib import Path
from types import SimpleNamespace

import pytest

from deploylog import cli
from deploylog import spec as spec_mod
from deploylog.log import actions, signing, state
from deploylog.pytest_plugin import reporter
from selftests.support import log_pytester as lp
from selftests.support import log_scenarios as sc
from selftests.support import ssh_keys

pytest_plugins = ["pytester"]

LOG_COMMANDS = ("deploylog.commands.record", "deploylog.commands.render")
SIGNING = """
[signing]
allowed_signers = "keys/allowed_signers"
key = "keys/ops"
"""
LOSS = {"5.4": {"status": "FAIL", "message": "reconciled payments 119 != baseline 120 (-1)", "figures": sc.integrity(120, 119)}}


@pytest.fixture
def keys(tmp_path):
    folder = tmp_path / "keys"
    made = {name: ssh_keys.make_key(folder, name) for name in ("ops", "finance", "qa", "eve")}
    listed = {"ops@bank": made["ops"], "finance@bank": made["finance"], "qa@bank": made["qa"]}  # eve is not listed
    ssh_keys.allowed_signers(folder / "allowed_signers", listed)
    return SimpleNamespace(**made, allowed=folder / "allowed_signers", fp={n: ssh_keys.fingerprint(k) for n, k in made.items()})


def deployment_dir(tmp_path: Path, monkeypatch, signing_toml: str = SIGNING) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(cli, "COMMAND_MODULES", LOG_COMMANDS)
    (tmp_path / "deploy.toml").write_text(lp.DEPLOY_TOML + signing_toml)
    return tmp_path


def record_runs(root: Path, post: dict | None = None) -> None:
    """Preflight, phase 0 and post recorded as the reporter records them (actions.append: signed by [signing] key)."""
    target = actions.target(spec_mod.load(root / "deploy.toml"))
    for name, minute in (("preflight", 0), ("phase0", 60), ("post", 90)):
        actions.append(target, sc.run(sc.PHASE_RUNS[name], minute, post if name == "post" else None, command=f"pytest -m {name}"))


@pytest.fixture
def signed(tmp_path, monkeypatch, keys):
    """Three runs signed by ops (post: 5.4 FAIL, data loss), then 7.1 recorded by QA with their own key."""
    root = deployment_dir(tmp_path, monkeypatch)
    record_runs(root, LOSS)
    assert deploylog("record", "7.1", "PASS", "--tester", "Quinn QA", f"--signing-key={keys.qa}") == 0
    return root


def deploylog(*argv: str) -> int:
    return cli.main(list(argv))


def verify(capsys) -> tuple[int, list[str]]:
    capsys.readouterr()
    code = deploylog("verify")
    out = capsys.readouterr().out
    print(out)  # shown when a test fails
    return code, out.splitlines()


def state_path(root: Path) -> Path:
    return state.state_path(root / "reports", sc.meta().deployment_id)


def log_json(root: Path) -> dict:
    return json.loads((root / "reports" / "execution-log.json").read_text())


def forge_every_fail_into_a_pass(root: Path) -> None:
    """The issue's forgery: every "status": "FAIL" in the state set to "PASS", then `deploylog render`."""
    path = state_path(root)
    text = path.read_text()
    assert '"status": "FAIL"' in text
    path.write_text(text.replace('"status": "FAIL"', '"status": "PASS"'))
    assert deploylog("render") == 0


def test_signed_runs_and_signoff_verify_and_show_who_signed(signed, keys, capsys):
    capsys.readouterr()
    assert deploylog("sign", "finance", "Fay Finance", "REJECT", f"--signing-key={keys.finance}") == 0
    said = capsys.readouterr().out.splitlines()[0]
    assert re.fullmatch(
        rf"deploylog: finance sign-off by Fay Finance: REJECT \(log digest [0-9a-f]{{16}}…\); signed by finance@bank \({re.escape(keys.fp['finance'])}\)",
        said,
    ), said
    code, lines = verify(capsys)
    assert code == 0, lines
    assert f"OK     event 1, run 1 (pytest -m preflight): signed by ops@bank ({keys.fp['ops']})" in lines
    assert f"OK     event 3, run 3 (pytest -m post): signed by ops@bank ({keys.fp['ops']})" in lines
    assert f"OK     event 4, manual 7.1 PASS by Quinn QA: signed by qa@bank ({keys.fp['qa']})" in lines
    assert f"OK     event 5, sign-off Finance Manager by Fay Finance (REJECT): signed by finance@bank ({keys.fp['finance']})" in lines
    assert "OK     baseline: the one the last signed event (event 5) was signed over" in lines
    assert lines[-2:] == [
        "deploylog: verify OK — the log is exactly what its recorded results render",
        "deploylog: every event is signed by a key allowed_signers accepts",
    ]
    md = (signed / "reports" / "execution-log.md").read_text()
    digest = state.load(state_path(signed))["events"][4]["log_digest"]
    assert re.search(
        rf"- Signature: OpenSSH signature by finance@bank \({re.escape(keys.fp['finance'])}\); recorded by deploylog at .*; "
        rf"log digest {digest[:16]}…, covers events 1-4\n",
        md,
    )
    assert "**Signatures**: every event (5) is signed with an OpenSSH key (namespace deploylog)" in md
    assert f"- event 3, run 3 (pytest -m post): ops@bank ({keys.fp['ops']})" in md
    html = (signed / "reports" / "execution-log.html").read_text()
    assert f"OpenSSH signature by finance@bank ({keys.fp['finance']})" in html
    signoff = log_json(signed)["signoffs"][0]
    assert (signoff["signature"]["principal"], signoff["signature"]["fingerprint"]) == ("finance@bank", keys.fp["finance"])
    assert signoff["covers"] == "covers events 1-4"
    assert signoff["signature"]["sshsig"].startswith("-----BEGIN SSH SIGNATURE-----")
    capsys.readouterr()
    assert deploylog("status") == 0
    assert "  signed: Finance Manager: Fay Finance REJECT at " in capsys.readouterr().out


def test_the_issues_forgery_is_caught_naming_the_bad_events(signed, keys, capsys):
    assert log_json(signed)["verdict"]["decision"] == "ROLLBACK"
    forge_every_fail_into_a_pass(signed)
    assert log_json(signed)["verdict"]["decision"] == "GO"  # the re-rendered files agree with the forged state...
    code, lines = verify(capsys)
    assert code == 1  # ...but the signatures do not
    ops, qa = keys.fp["ops"], keys.fp["qa"]
    assert [line for line in lines if line.startswith(("OK     event", "BAD"))] == [
        f"OK     event 1, run 1 (pytest -m preflight): signed by ops@bank ({ops})",
        f"OK     event 2, run 2 (pytest -m phase0): signed by ops@bank ({ops})",
        f"BAD    event 3, run 3 (pytest -m post): BAD signature (claims ops@bank ({ops})): "
        "it was changed after it was signed (the signature does not match its content)",
        f"BAD    event 4, manual 7.1 PASS by Quinn QA: BAD signature (claims qa@bank ({qa})): "
        "the events before it were changed, reordered or deleted after it was signed",
    ]
    assert lines[-1] == (
        "deploylog: verify FAILED — BAD event(s) 3, 4: changed after they were signed, or not signed by a key allowed_signers accepts"
    )


@pytest.mark.parametrize(
    ("edit", "bad"),
    [
        (lambda events: events.pop(1), ["event 3, run 2 (pytest -m post)", "event 4, manual 7.1 PASS by Quinn QA"]),
        (
            lambda events: events.insert(0, events.pop(1)),
            [
                "event 2, run 1 (pytest -m phase0)",
                "event 1, run 2 (pytest -m preflight)",
                "event 3, run 3 (pytest -m post)",
                "event 4, manual 7.1 PASS by Quinn QA",
            ],
        ),
    ],
    ids=["deleted", "reordered"],
)
def test_deleting_or_reordering_an_event_breaks_the_signatures_after_it(signed, capsys, edit, bad):
    path = state_path(signed)
    data = json.loads(path.read_text())
    edit(data["events"])
    path.write_text(json.dumps(data))
    deploylog("render")
    code, lines = verify(capsys)
    assert code == 1
    bad_lines = [line for line in lines if line.startswith("BAD    event")]
    assert [line.split(": BAD signature")[0] for line in bad_lines] == [f"BAD    {subject}" for subject in bad]
    assert all(line.endswith("): the events before it were changed, reordered or deleted after it was signed") for line in bad_lines)


def forge_and_resign(root: Path, signer: signing.Signer) -> None:
    """The issue's forgery, then every event re-signed in order with signer's key (as deploylog itself would sign it)."""
    path = state_path(root)
    forged = json.loads(path.read_text().replace('"status": "FAIL"', '"status": "PASS"'))
    events, forged["events"] = forged["events"], []
    for event in events:
        event = {k: v for k, v in event.items() if k != "signature"}
        signer.seal(forged, event)
        forged["events"].append(event)
    path.write_text(json.dumps(forged, indent=1, sort_keys=True))
    assert deploylog("render") == 0


def test_a_forger_with_an_unlisted_key_is_caught(signed, keys, tmp_path, capsys):
    """Eve forges the statuses and re-signs every event as ops@bank with her own key (listed in her own file only)."""
    her_list = ssh_keys.allowed_signers(tmp_path / "eves_allowed_signers", {"ops@bank": keys.eve, "qa@bank": keys.eve})
    forge_and_resign(signed, signing.Signer(her_list, str(keys.eve), "", required=True))
    code, lines = verify(capsys)
    assert code == 1
    eve = keys.fp["eve"]
    assert [line for line in lines if line.startswith(("OK     event", "BAD"))] == [
        f"BAD    event {n}, {what}: BAD signature (claims ops@bank ({eve})): made by key {eve}, which {keys.allowed} does not accept for ops@bank"
        for n, what in enumerate(
            ["run 1 (pytest -m preflight)", "run 2 (pytest -m phase0)", "run 3 (pytest -m post)", "manual 7.1 PASS by Quinn QA"], 1
        )
    ]
    assert lines[-1].startswith("deploylog: verify FAILED — BAD event(s) 1, 2, 3, 4:")


def test_a_holder_of_a_listed_key_who_rewrites_is_named_as_the_signer(signed, keys, capsys):
    """The trust model's limit: ops can rewrite and re-sign, but only as ops@bank; QA's record now shows ops as its signer."""
    forge_and_resign(signed, signing.Signer(keys.allowed, str(keys.ops), "", required=True))
    code, lines = verify(capsys)
    assert code == 0
    assert f"OK     event 4, manual 7.1 PASS by Quinn QA: signed by ops@bank ({keys.fp['ops']})" in lines


def test_a_signoff_before_a_later_run_covers_only_what_it_signed(signed, keys, capsys):
    assert deploylog("sign", "finance", "Fay Finance", "APPROVE", f"--signing-key={keys.finance}") == 0
    record_runs(signed)  # three more runs after the sign-off (a re-run of every phase)
    code, lines = verify(capsys)
    assert code == 0, lines
    assert any(
        line.startswith("OK     sign-off of Finance Manager by Fay Finance (APPROVE, ")
        and line.endswith("): the log it signed is unchanged (covers events 1-4 only (events 6-8 recorded after it))")
        for line in lines
    ), lines
    md = (signed / "reports" / "execution-log.md").read_text()
    assert "covers events 1-4 only (events 6-8 recorded after it)\n" in md
    assert log_json(signed)["signoffs"][0]["covers"] == "covers events 1-4 only (events 6-8 recorded after it)"


def test_an_unsigned_log_says_it_is_integrity_checked_only_and_the_forgery_passes(tmp_path, monkeypatch, capsys):
    """The issue's premise, kept as the control: without [signing] the forgery verifies, and the log says what it is."""
    root = deployment_dir(tmp_path, monkeypatch, signing_toml="")
    record_runs(root, LOSS)
    forge_every_fail_into_a_pass(root)
    code, lines = verify(capsys)
    assert code == 0
    assert (
        "NOTE   signatures: not configured ([signing] allowed_signers is empty): the log is integrity-checked only, "
        "not tamper-proof; anyone who can edit the state can recompute the digest"
    ) in lines
    assert lines[-2:] == [
        "deploylog: verify OK — the log is exactly what its recorded results render",
        "deploylog: integrity-checked only, not tamper-proof — no [signing] allowed_signers: nothing is signed",
    ]
    md = (root / "reports" / "execution-log.md").read_text()
    assert (
        "**Signatures**: unsigned: integrity-checked only, not tamper-proof (anyone who can edit the state can recompute "
        "the digest; see [signing] in the README)\n"
    ) in md
    assert log_json(root)["signatures"]["statement"].startswith("unsigned: integrity-checked only, not tamper-proof")
    assert deploylog("sign", "finance", "Fay Finance", "APPROVE") == 0
    assert (
        "- Signature: unsigned (integrity-checked only, not tamper-proof); recorded by deploylog at "
        in (root / "reports" / "execution-log.md").read_text()
    )


def test_unsigned_events_fail_verify_once_signing_is_configured(tmp_path, monkeypatch, keys, capsys):
    """Stripping the signatures is no way around them: with allowed_signers configured an unsigned event is BAD."""
    root = deployment_dir(tmp_path, monkeypatch, signing_toml="")
    record_runs(root)
    (root / "deploy.toml").write_text(lp.DEPLOY_TOML + SIGNING)
    code, lines = verify(capsys)
    assert code == 1
    assert "BAD    event 2, run 2 (pytest -m phase0): unsigned — [signing] requires every event to be signed" in lines
    assert lines[-1].startswith("deploylog: verify FAILED — BAD event(s) 1, 2, 3:")


def test_a_forger_who_also_strips_signing_is_caught_by_the_auditors_own_allowed_signers(signed, keys, capsys):
    """The forgery, every signature stripped and [signing] deleted from deploy.toml: the log then reads as an
    unsigned one (and says it is not tamper-proof); the auditor's own allowed_signers (the README's
    `deploylog verify --set signing.allowed_signers=PATH`) finds every event unsigned: BAD, exit 1."""
    path = state_path(signed)
    forged = json.loads(path.read_text().replace('"status": "FAIL"', '"status": "PASS"'))
    for event in forged["events"]:
        event.pop("signature")
    path.write_text(json.dumps(forged, indent=1, sort_keys=True))
    (signed / "deploy.toml").write_text(lp.DEPLOY_TOML)
    assert deploylog("render") == 0
    assert log_json(signed)["verdict"]["decision"] == "GO"
    code, lines = verify(capsys)
    assert code == 0
    assert lines[-1] == "deploylog: integrity-checked only, not tamper-proof — no [signing] allowed_signers: nothing is signed"
    capsys.readouterr()
    code = deploylog("verify", "--set", f'signing.allowed_signers="{keys.allowed}"')
    lines = capsys.readouterr().out.splitlines()
    assert code == 1, lines
    assert "BAD    event 3, run 3 (pytest -m post): unsigned — [signing] requires every event to be signed" in lines
    assert lines[-1].startswith("deploylog: verify FAILED — BAD event(s) 1, 2, 3, 4:")


def test_a_baseline_swapped_after_signing_is_bad(signed, capsys):
    baseline = spec_mod.load(signed / "deploy.toml").baseline_path
    baseline.parent.mkdir(parents=True, exist_ok=True)
    baseline.write_text(json.dumps({"digest": "b" * 64}))
    deploylog("render")
    code, lines = verify(capsys)
    assert code == 1
    assert (
        "BAD    baseline: now bbbbbbbbbbbbbbbb…, but the last signed event (event 4) was signed over no baseline: replaced after it"
        in lines
    )


def missing_key_file(monkeypatch, tmp_path) -> str:
    return "--signing-key=keys/missing"


def no_agent(monkeypatch, tmp_path) -> str:
    monkeypatch.delenv("SSH_AUTH_SOCK", raising=False)
    return ""  # [signing] key empty: the agent's key


def unlisted_key(monkeypatch, tmp_path) -> str:
    return "--signing-key=keys/eve"


def key_with_passphrase(monkeypatch, tmp_path) -> str:
    return f"--signing-key={ssh_keys.make_key(tmp_path / 'keys', 'locked', passphrase='secret phrase')}"


def no_ssh_keygen(monkeypatch, tmp_path) -> str:
    (tmp_path / "empty-bin").mkdir()
    monkeypatch.setenv("PATH", str(tmp_path / "empty-bin"))
    return "--signing-key=keys/ops"


@pytest.mark.parametrize(
    ("setup", "expected"),
    [
        (missing_key_file, r"signing key \S+/keys/missing does not exist \(\[signing\] key, --signing-key\)"),
        (
            no_agent,
            r"no signing key: \[signing\] key is empty and no ssh-agent is running \(SSH_AUTH_SOCK is not set\); "
            r"start one and `ssh-add` your key, or give the key file \(\[signing\] key, --signing-key\)",
        ),
        (unlisted_key, r"\S+/keys/allowed_signers accepts no principal for key SHA256:\S+ \(\S+/keys/eve\): No principal matched\."),
        (
            key_with_passphrase,
            r"cannot sign with \S+/keys/locked: it needs a passphrase and deploylog never prompts; load it into ssh-agent "
            r"\(`ssh-add \S+/keys/locked`\) and set \[signing\] key to its \.pub, or leave key empty to use the agent",
        ),
        (no_ssh_keygen, r"ssh-keygen not found: install OpenSSH's client tools \(openssh-client\); deploylog signs with it"),
    ],
    ids=["missing-key-file", "no-agent", "unlisted-key", "key-with-passphrase", "no-ssh-keygen"],
)
def test_a_required_signature_that_cannot_be_made_is_one_clear_error_and_nothing_is_recorded(
    tmp_path, monkeypatch, keys, capsys, setup, expected
):
    root = deployment_dir(tmp_path, monkeypatch, signing_toml=SIGNING.replace('key = "keys/ops"', ""))
    key_option = setup(monkeypatch, tmp_path)
    capsys.readouterr()
    assert deploylog("sign", "finance", "Fay Finance", "APPROVE", *filter(None, [key_option])) == 2
    err = capsys.readouterr().err
    assert re.fullmatch(r"deploylog: error: the event cannot be signed, and \[signing\] requires it: " + expected + "\n", err), err
    assert not state_path(root).exists()  # nothing recorded


def test_not_required_records_unsigned_and_says_so_loudly(tmp_path, monkeypatch, keys, capsys):
    root = deployment_dir(tmp_path, monkeypatch, signing_toml=SIGNING + "required = false\n")
    record_runs(root)
    capsys.readouterr()
    assert deploylog("record", "7.1", "PASS", "--tester", "Quinn QA", "--signing-key=keys/missing") == 0
    err = capsys.readouterr().err
    assert err.startswith("deploylog: UNSIGNED — recorded without a signature ([signing] required = false): signing key ")
    code, lines = verify(capsys)
    assert code == 0
    assert any(line.startswith("UNSIGNED event 4, manual 7.1 PASS by Quinn QA: unsigned: signing key ") for line in lines), lines
    assert lines[-1] == "deploylog: not tamper-proof — unsigned event(s) 4"
    md = (root / "reports" / "execution-log.md").read_text()
    assert "**Signatures**: 3 of 4 events signed; unsigned: event 4: not tamper-proof\n" in md


def test_the_ssh_agent_signs_with_the_listed_key_it_holds(tmp_path, monkeypatch, keys, capsys):
    deployment_dir(tmp_path, monkeypatch, signing_toml=SIGNING.replace('key = "keys/ops"', ""))  # key empty: the agent
    with ssh_keys.agent() as env:
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        ssh_keys.add_to_agent(env, keys.eve)  # not listed: passed over
        ssh_keys.add_to_agent(env, keys.finance)
        keys.finance.unlink()  # from now on only the agent holds finance's private key
        capsys.readouterr()
        assert deploylog("sign", "finance", "Fay Finance", "APPROVE") == 0
        assert capsys.readouterr().out.splitlines()[0].endswith(f"; signed by finance@bank ({keys.fp['finance']})")
        public_half = f"--signing-key={keys.qa}.pub"  # a .pub whose private half is in the agent
        ssh_keys.add_to_agent(env, keys.qa)
        keys.qa.unlink()
        assert deploylog("record", "7.1", "PASS", "--tester", "Quinn QA", public_half) == 0
    code, lines = verify(capsys)
    assert code == 0
    assert f"OK     event 1, sign-off Finance Manager by Fay Finance (APPROVE): signed by finance@bank ({keys.fp['finance']})" in lines
    assert f"OK     event 2, manual 7.1 PASS by Quinn QA: signed by qa@bank ({keys.fp['qa']})" in lines


def test_a_key_retired_with_valid_before_still_vouches_for_what_it_signed(signed, keys, capsys):
    """allowed_signers is checked at each event's recorded time: retire a key with valid-before, its past signatures hold."""
    time.sleep(2)  # QA's record (second precision) is now at least 2 s old: retire the key 1 s ago, after it
    retired = (dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)).strftime("%Y%m%d%H%M%SZ")
    listed = {"ops@bank": keys.ops, "finance@bank": keys.finance, "qa@bank": keys.qa}
    ssh_keys.allowed_signers(keys.allowed, listed, {"qa@bank": f'valid-before="{retired}"'})
    code, lines = verify(capsys)
    assert code == 0, lines
    capsys.readouterr()
    assert deploylog("record", "7.2", "PASS", "--tester", "Quinn QA", f"--signing-key={keys.qa}") == 2
    assert "key has expired" in capsys.readouterr().err


def test_signing_keys_resolve_like_paths_and_need_allowed_signers(tmp_path):
    (tmp_path / "deploy.toml").write_text(lp.DEPLOY_TOML + SIGNING)
    spec = spec_mod.load(tmp_path / "deploy.toml")
    assert (spec.signing.allowed_signers, spec.signing.key) == (str(tmp_path / "keys/allowed_signers"), str(tmp_path / "keys/ops"))
    assert spec.signing.required is True
    (tmp_path / "deploy.toml").write_text(lp.DEPLOY_TOML + '[signing]\nkey = "~/.ssh/id_ed25519"\n')
    with pytest.raises(spec_mod.SpecError, match=r"signing.key: set signing.allowed_signers too"):
        spec_mod.load(tmp_path / "deploy.toml")
    assert dataclasses.asdict(spec_mod.Signing()) == {"allowed_signers": "", "key": "", "principal": "", "required": True}


# ------------------------------------------------------------------ a pytest run (the reporter)

DELETE_KEY_TEST = """
import os
import pytest
from deploylog.result import CheckResult

@pytest.mark.item("0.1")
def test_the_key_goes_away(verdict):
    os.remove(os.environ["KEY_TO_LOSE"])  # the key vanishes while the run is under way
    verdict(CheckResult("0.1", "PASS", "posted payments 150 > 100"))
"""


def run_suite(pytester: pytest.Pytester, signing_toml: str, *args: str) -> pytest.RunResult:
    lp.setup(pytester, toml=lp.DEPLOY_TOML + signing_toml)
    quiet = ("-W", "ignore::pytest.PytestAssertRewriteWarning")
    return pytester.runpytest_inprocess("-p", "no:cacheprovider", *quiet, *args)


def signing_toml(keys, key: Path | str, *extra: str) -> str:
    return "\n".join(["[signing]", f'allowed_signers = "{keys.allowed}"', f'key = "{key}"', *extra, ""])


def test_a_pytest_run_is_signed_by_the_operators_key(pytester, keys, monkeypatch, capsys):
    lp.phase0(pytester)
    result = run_suite(pytester, signing_toml(keys, keys.ops), "-m", "phase0")
    assert result.ret == pytest.ExitCode.TESTS_FAILED  # 0.4's fixture errors: the run is recorded all the same
    summary = next(line for line in result.outlines if line.startswith("deploylog: execution log "))
    assert summary.endswith(f"; signed by ops@bank ({keys.fp['ops']}))")
    run_event = state.load(lp.state_file(pytester))["events"][0]
    assert (run_event["signature"]["principal"], run_event["signature"]["fingerprint"]) == ("ops@bank", keys.fp["ops"])
    monkeypatch.chdir(pytester.path)
    monkeypatch.setattr(cli, "COMMAND_MODULES", LOG_COMMANDS)
    code, lines = verify(capsys)
    command = "pytest -p no:cacheprovider -W ignore::pytest.PytestAssertRewriteWarning -m phase0"
    assert code == 0 and f"OK     event 1, run 1 ({command}): signed by ops@bank ({keys.fp['ops']})" in lines


def test_a_run_that_cannot_be_signed_runs_nothing(pytester, keys):
    lp.phase0(pytester)
    result = run_suite(pytester, signing_toml(keys, keys.ops.with_name("missing")), "-m", "phase0")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert (
        f"deploylog: signing error, nothing run or recorded: signing key {keys.ops.with_name('missing')} does not exist "
        "([signing] key, --signing-key)"
    ) in result.stdout.str() + result.stderr.str()
    assert not lp.reports(pytester).exists()


def test_a_key_lost_during_the_run_leaves_the_run_not_recorded(pytester, keys, tmp_path, monkeypatch):
    lost = tmp_path / "lost-key"
    lost.write_bytes(keys.ops.read_bytes())
    lost.chmod(0o600)
    monkeypatch.setenv("KEY_TO_LOSE", str(lost))
    pytester.makepyfile(test_phase0=DELETE_KEY_TEST)
    result = run_suite(pytester, signing_toml(keys, lost))
    assert result.ret == reporter.NOT_RECORDED
    assert result.outlines[-1] == (
        "deploylog: NOT RECORDED — the results of this run reached no execution log: the event cannot be signed, "
        f"and [signing] requires it: signing key {lost} does not exist ([signing] key, --signing-key)"
    )
    assert not lp.state_file(pytester).exists()


def test_not_required_a_run_is_recorded_unsigned_with_a_loud_line(pytester, keys):
    lp.phase0(pytester)
    missing = keys.ops.with_name("missing")
    result = run_suite(pytester, signing_toml(keys, missing, "required = false"), "-m", "phase0")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    assert result.outlines[-2] == (
        f"deploylog: UNSIGNED — this run is recorded without a signature: signing key {missing} does not exist "
        "([signing] key, --signing-key)"
    )
    assert result.outlines[-1].startswith("deploylog: NO-GO — ")
    assert state.load(lp.state_file(pytester))["events"][0]["unsigned"].startswith("signing key ")
