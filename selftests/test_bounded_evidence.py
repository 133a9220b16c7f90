"""Issue 8.12: whatever a check pastes, the state keeps a bounded result and the whole text beside it.

Real files: the state is written by state.append_event (where every result
passes), rendered by actions.append, checked by publish.verify.
"""

from __future__ import annotations

import hashlib
import json
import re

from deploylog.files import sha256_file
from deploylog.log import actions, evidence, publish
from deploylog.log import state as state_mod
from selftests.support import log_scenarios as sc

SECRET = "hunter2-do-not-log"


def record(tmp_path, *results):
    """Append one run event holding `results` through the real path, render the log; the stored event."""
    target = actions.Target(sc.meta(report_dir=str(tmp_path)), tmp_path)
    event = {**sc.run(("6",), 90), "results": list(results)}
    actions.append(target, event)
    stored = state_mod.load(target.state_path)
    assert stored is not None
    return target, stored["events"][-1]


def marker(path: str, sha: str, omitted: int) -> str:
    return f"… truncated: {omitted} bytes omitted (full text: {path}, sha256 {sha})"


def test_an_evidence_over_the_limit_keeps_its_head_and_the_whole_redacted_text_beside_it(tmp_path):
    # a dump pasted by a check: a DSN with a password at the top, multi-byte text across the cut
    text = f"postgresql://odoo:{SECRET}@db/osusproperties\n" + "é€ line of a pasted dump\n" * 20_000
    target, event = record(tmp_path, sc.entry("6.3", "FAIL", evidence=text), sc.entry("6.1", "FAIL"))
    big, small = event["results"]
    (whole,) = big["full_text"]
    assert whole["field"] == "evidence" and re.fullmatch(r"evidence/6\.3-evidence-[0-9a-f]{16}\.txt", whole["path"])
    attached = tmp_path / whole["path"]
    data = attached.read_bytes()
    # written from the redacted text: the password never reaches the disk
    assert SECRET not in data.decode() and data.decode() == text.replace(SECRET, "***")
    assert whole["size"] == len(data) and whole["sha256"] == sha256_file(attached) == hashlib.sha256(data).hexdigest()
    assert whole["path"].endswith(f"-{whole['sha256'][:16]}.txt")
    head, _, _ = big["evidence"].partition("\n… truncated: ")
    assert data.startswith(head.encode()) and len(head.encode()) <= evidence.EVIDENCE_LIMIT
    assert len(head.encode()) > evidence.EVIDENCE_LIMIT - 4  # cut on a character, not earlier
    assert big["evidence"] == head + "\n" + marker(whole["path"], whole["sha256"], len(data) - len(head.encode()))
    # a result within the limits is stored as it came
    assert small["evidence"] == "evidence of 6.1" and "full_text" not in small
    # the log shows the marker as recorded, execution-log.json lists the attachment, verify passes
    assert marker(whole["path"], whole["sha256"], len(data) - len(head.encode())) in (tmp_path / "execution-log.md").read_text()
    doc = json.loads((tmp_path / "execution-log.json").read_text())
    assert doc["items"]["6.3"]["results"][0]["full_text"] == [whole]
    checks = publish.verify(state_mod.load(target.state_path) or {}, tmp_path)
    assert all(c.ok for c in checks), [c.line() for c in checks]
    assert f"OK     full text of 6.3 evidence ({whole['path']}): matches its recorded sha256" in [c.line() for c in checks]
    assert target.state_path.stat().st_size < 3 * evidence.EVIDENCE_LIMIT
    # the full text kept beside the log is evidence too: an edit of it is caught
    attachment = tmp_path / whole["path"]
    attachment.write_text(attachment.read_text().replace("line of a pasted dump", "line of a changed dump", 1))
    checks = publish.verify(state_mod.load(target.state_path) or {}, tmp_path)
    edited = [c.line() for c in checks if not c.ok]
    assert edited == [f"EDITED full text of 6.3 evidence ({whole['path']}): its sha256 is not the one recorded (edited)"]


def test_a_message_and_a_query_over_their_limits_are_capped_the_same_way(tmp_path):
    message = "UNEXPECTED CHANGES - unexpected: " + ", ".join(f"addons/m/file_{n}.py" for n in range(1000))
    query = "SELECT id FROM account_move WHERE id IN (" + ", ".join(str(n) for n in range(10_000)) + ")"
    _, event = record(tmp_path, sc.entry("2.2", "FAIL", message=message, queries=["SELECT 1", query]))
    (entry,) = event["results"]
    fields = {f["field"]: f for f in entry["full_text"]}
    assert set(fields) == {"message", "query2"}
    kept = message.encode()[: evidence.MESSAGE_LIMIT].decode()
    assert entry["message"] == kept + " " + marker(fields["message"]["path"], fields["message"]["sha256"], len(message) - len(kept))
    assert entry["queries"][0] == "SELECT 1"
    assert entry["queries"][1].startswith(query[:100]) and entry["queries"][1].endswith(
        marker(fields["query2"]["path"], fields["query2"]["sha256"], len(query) - evidence.QUERY_LIMIT)
    )
    assert (tmp_path / fields["query2"]["path"]).read_text() == query


def test_the_same_text_recorded_twice_is_one_attachment(tmp_path):
    text = "x" * (2 * evidence.EVIDENCE_LIMIT)
    _, first = record(tmp_path, sc.entry("6.3", "FAIL", evidence=text))
    _, second = record(tmp_path, sc.entry("6.3", "FAIL", evidence=text))
    assert first["results"][0]["full_text"] == second["results"][0]["full_text"]
    assert len(list((tmp_path / "evidence").iterdir())) == 1
