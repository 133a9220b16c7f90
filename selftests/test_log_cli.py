"""`deploylog record | sign | incident | attach | render | status | verify` end to end."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from deploylog import cli
from deploylog import spec as spec_mod
from deploylog.log import state
from selftests.support import log_pytester as lp
from selftests.support import log_scenarios as sc

LOG_COMMANDS = ("deploylog.commands.record", "deploylog.commands.render")


@pytest.fixture
def deploy(tmp_path, monkeypatch):
    """A deployment dir with deploy.toml and a state holding phases P-6 (all pass)."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(cli, "COMMAND_MODULES", LOG_COMMANDS)  # independent of the other command modules
    (tmp_path / "deploy.toml").write_text(lp.DEPLOY_TOML)
    path = state.state_path(tmp_path / "reports", sc.meta().deployment_id)
    for event in sc.phase7_pending()["events"]:
        state.append_event(path, sc.meta().deployment_id, {}, {k: v for k, v in event.items() if k != "seq"})
    return tmp_path


def deploylog(*argv: str) -> int:
    return cli.main(list(argv))


def log_json(root: Path) -> dict:
    return json.loads((root / "reports" / "execution-log.json").read_text())


def test_record_phase7_then_sign_then_verify(deploy, capsys):
    assert deploylog("render") == 0
    assert log_json(deploy)["items"]["7.1"]["status"] == "MANUAL"
    for n in range(1, 6):
        assert deploylog("record", f"7.{n}", "pass", "--tester", "Quinn QA", "--notes", f"step {n} ok") == 0
    assert deploylog("sign", "devops", "Dana Ops", "APPROVE") == 0  # the short form
    finance = ("--role", "Finance Manager", "--name", "Fay Finance", "--decision", "approve")
    assert deploylog("sign", *finance, "--time", "2025-12-22T11:00:00") == 0
    doc = log_json(deploy)
    assert doc["items"]["7.3"]["status"] == "PASS" and doc["items"]["7.3"]["manual"]["notes"] == "step 3 ok"
    assert doc["overall"] == "COMPLETE SUCCESS" and doc["overall_final"] is True
    assert doc["verdict"]["decision"] == "GO"
    md = (deploy / "reports" / "execution-log.md").read_text()
    assert "| Finance Manager | Fay Finance | ☑ APPROVE (2025-12-22 11:00:00 UTC) |" in md
    assert "☑ ✅ **COMPLETE SUCCESS**" in md
    capsys.readouterr()
    assert deploylog("verify") == 0
    out = capsys.readouterr().out
    assert "deploylog: verify OK — the log is exactly what its recorded results render" in out.splitlines()
    assert out.count("OK     sign-off") == 2
    assert deploylog("status") == 0
    assert capsys.readouterr().out.startswith("deploylog: GO — ")


def test_incident_and_attachment(deploy, tmp_path_factory):
    shot = tmp_path_factory.mktemp("shots") / "backup.png"
    shot.write_bytes(b"\x89PNG fake")
    assert (
        deploylog(
            "incident",
            "--description",
            "Odoo took 90 s to start",
            "--severity",
            "medium",
            "--resolution",
            "waited for the workers",
            "--approver",
            "Dana Ops",
        )
        == 0
    )
    assert deploylog("attach", str(shot), "--kind", "backup-screenshot") == 0
    doc = log_json(deploy)
    assert doc["incidents"][0]["status"] == "Resolved" and doc["incidents"][0]["severity"] == "Medium"
    attachment = doc["attachments"][0]
    assert (deploy / "reports" / attachment["path"]).read_bytes() == b"\x89PNG fake"
    assert len(attachment["sha256"]) == 64
    md = (deploy / "reports" / "execution-log.md").read_text()
    assert "**Severity**: ☐ Critical ☐ High ☑ Medium ☐ Low" in md
    assert "- ☑ Backup verification screenshot: `attachments/backup.png`" in md
    assert "- ☐ Odoo logs (last 100 lines)" in md


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (("record", "4.1", "PASS", "--tester", "x"), "decided by its test"),
        (("record", "9.9", "PASS", "--tester", "x"), "unknown log item"),
        (("sign", "ceo", "Ann", "APPROVE"), "unknown role"),
        (("sign", "verification", "Ann", "APPROVE"), "decides STABLE or ISSUES FOUND"),
        (("sign", "--role", "finance", "--name", "Ann"), "missing --decision: sign --role ROLE --name NAME --decision DECISION"),
        (("sign", "finance", "Ann"), "expected ROLE NAME DECISION, got 2 word(s)"),
        (("sign", "finance", "Ann", "APPROVE", "--role", "qa"), "give the sign-off either as options or as three words, not both"),
        (("record", "7.1", "PASS", "--tester", "x", "--time", "yesterday"), "not an ISO time"),
        (("attach", "/nonexistent/file.txt"), "not a file"),
    ],
)
def test_bad_input_is_one_line(deploy, capsys, argv, message):
    assert deploylog(*argv) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("deploylog: error:") and message in err and "\n" not in err


def test_verify_catches_an_edited_json_and_html(deploy, capsys):
    deploylog("record", "7.1", "FAIL", "--tester", "Quinn QA")
    path = deploy / "reports" / "execution-log.json"
    doc = json.loads(path.read_text())
    doc["items"]["7.1"]["status"] = "PASS"
    path.write_text(json.dumps(doc, indent=2, ensure_ascii=False) + "\n")
    html = deploy / "reports" / "execution-log.html"
    html.write_text(html.read_text().replace("CRITICAL FAILURE", "COMPLETE SUCCESS"))
    capsys.readouterr()
    assert deploylog("verify") == 1
    out = capsys.readouterr().out
    assert "EDITED execution-log.json" in out and "EDITED execution-log.html" in out
    assert "OK     execution-log.md: matches the state and the digest" in out.splitlines()
    assert deploylog("render") == 0 and deploylog("verify") == 0


def test_verify_catches_a_result_changed_after_signoff(deploy, capsys):
    deploylog("sign", "finance", "Fay Finance", "APPROVE")
    path = state.state_path(deploy / "reports", sc.meta().deployment_id)
    data = json.loads(path.read_text())
    data["events"][2]["results"][0]["status"] = "PASS"  # rewrite history, then re-render to hide it
    data["events"][2]["results"][0]["message"] = "all good"
    path.write_text(json.dumps(data))
    deploylog("render")
    capsys.readouterr()
    assert deploylog("verify") == 1
    assert "results recorded before this sign-off were changed after it" in capsys.readouterr().out


def test_digest_is_chained_over_the_baseline(deploy, capsys):
    deploylog("render")
    without = log_json(deploy)["digest"]
    assert "chained over the empty string" in log_json(deploy)["baseline"]["note"]
    baseline = spec_mod.load(deploy / "deploy.toml").baseline_path  # where phase 0 writes it
    baseline.parent.mkdir(parents=True, exist_ok=True)
    baseline.write_text(json.dumps({"digest": "a" * 64}))
    deploylog("sign", "devops", "Dana Ops", "APPROVE")
    doc = log_json(deploy)
    assert doc["baseline"]["digest"] == "a" * 64 and doc["digest"] != without
    assert deploylog("verify") == 0
    baseline.write_text(json.dumps({"digest": "b" * 64}))  # baseline swapped after the log was signed
    capsys.readouterr()
    assert deploylog("verify") == 1
    out = capsys.readouterr().out
    assert "the baseline changed after this sign-off" in out


def test_verify_without_a_state_is_a_clear_error(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(cli, "COMMAND_MODULES", LOG_COMMANDS)
    (tmp_path / "deploy.toml").write_text(lp.DEPLOY_TOML)
    assert deploylog("verify") == 2
    assert "nothing to verify" in capsys.readouterr().err


def test_python_api_for_the_demo(deploy):
    from deploylog import spec as spec_mod
    from deploylog.log import actions

    spec = spec_mod.load(deploy / "deploy.toml")
    view = actions.record_manual(spec, "7.2", "PASS", "Quinn QA", "manager override works")
    assert view.items["7.2"].status == "PASS"
    view = actions.sign(spec, "qa", "Quinn QA", "APPROVE")
    assert view.signoffs["QA/Testing"]["log_digest"]
    paths = actions.render(spec)
    assert sorted(p.name for p in paths.values()) == ["execution-log.html", "execution-log.json", "execution-log.md"]
    assert actions.status_text(spec).startswith("deploylog: GO — ")


def test_status_names_the_na_items(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(cli, "COMMAND_MODULES", LOG_COMMANDS)
    (tmp_path / "deploy.toml").write_text(lp.DEPLOY_TOML)
    path = state.state_path(tmp_path / "reports", sc.meta().deployment_id)
    na = {"status": "NA", "message": "reconciliation table absent"}
    for event in (sc.run(sc.PHASE_RUNS["phase0"], 60, {"0.3": na}), sc.run(sc.PHASE_RUNS["post"], 90, {"4.7": na})):
        state.append_event(path, sc.meta().deployment_id, {}, event)
    assert deploylog("status") == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("deploylog: GO — phases 0-6 passed; 2 items N/A: 0.3, 4.7;")
    assert (
        "not applicable (2): 0.3 Reconciled Payments Baseline: reconciliation table absent; "
        "4.7 No Orphaned Records: reconciliation table absent"
    ) in lines


@pytest.mark.parametrize("command", [("render",), ("status",), ("verify",), ("record", "7.1", "PASS", "--tester", "Quinn QA")])
def test_a_damaged_state_is_one_clear_error_and_stays_where_it_is(deploy, capsys, command):
    """`deploylog render` used to crash with KeyError: 'item'; no command but a pytest run moves a state aside."""
    path = state.state_path(deploy / "reports", sc.meta().deployment_id)
    data = json.loads(path.read_text())
    del data["events"][1]["results"][2]["item"]
    path.write_text(json.dumps(data))
    before = {p.name: p.read_bytes() for p in path.parent.iterdir()}
    capsys.readouterr()
    assert deploylog(*command) == 2
    captured = capsys.readouterr()
    assert captured.err == (
        f"deploylog: error: {path} is damaged (not a deploylog-state/1 state: event seq 2 (run): results[2] has no 'item'); "
        "restore it from a copy, or move it aside (a `pytest` run moves it aside itself and starts a new log)\n"
    )
    assert {p.name: p.read_bytes() for p in path.parent.iterdir()} == before  # nothing moved, nothing written


@pytest.mark.parametrize(
    ("edit", "problem"),
    [
        (lambda d: d["events"][0].pop("seq"), "event #1 (no integer 'seq'): 'seq' missing or not an integer"),
        (lambda d: d["events"][0].update(type="party"), "event seq 1: unknown type 'party'"),
        (
            lambda d: d["events"][0]["results"][0].update(status="MAYBE"),
            "event seq 1 (run): results[0]: 'status' is 'MAYBE', expected one of",
        ),
        (
            lambda d: d["events"][0]["results"][0].update(duration="slow"),
            "event seq 1 (run): results[0]: 'duration' is str 'slow', expected int or float",
        ),
        (lambda d: d["events"][0].update(finished="yesterday"), "event seq 1 (run): 'finished' is not an ISO time: 'yesterday'"),
        (
            lambda d: d["events"][0]["results"][0].update(figures={"kind": "integrity", "bogus": 1}),
            "event seq 1 (run): results[0]: 'figures' unreadable (TypeError:",
        ),
        (lambda d: d.update(events={}), "the state: 'events' is dict {}, expected list"),
        (lambda d: d.pop("deployment_id"), "the state has no 'deployment_id'"),
    ],
)
def test_each_wrong_shape_is_named_by_event_and_key(deploy, capsys, edit, problem):
    path = state.state_path(deploy / "reports", sc.meta().deployment_id)
    data = json.loads(path.read_text())
    edit(data)
    path.write_text(json.dumps(data))
    capsys.readouterr()
    assert deploylog("render") == 2
    err = capsys.readouterr().err
    assert err.startswith(f"deploylog: error: {path} is damaged (not a deploylog-state/1 state: {problem}") and err.count("\n") == 1
