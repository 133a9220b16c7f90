"""The HTML log: well-formed, self-contained (no external reference), charts, escaping,
and rendered by headless Chromium without console errors."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest
from lxml import etree
from lxml import html as lxml_html

from deploylog.log import charts, render_html, render_json
from selftests.support import log_scenarios as sc

SCENARIOS = ["all_pass", "phase0_abort", "phase5_data_loss", "phase7_pending", "rerun_after_failure"]
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def rendered(scenario: str) -> str:
    return render_html.render(sc.view(getattr(sc, scenario)()))


def assert_self_contained(text: str) -> None:
    root = etree.fromstring(text.encode("utf-8"))  # strict XML parser: the page is well-formed
    for element in root.iter():
        for name, value in element.attrib.items():
            assert name not in ("src", "href", "srcset", "action", "xlink:href"), (element.tag, name, value)
    forbidden = {"script", "link", "img", "iframe", "object", "embed", "base"}
    assert not [e.tag for e in root.iter() if isinstance(e.tag, str) and e.tag in forbidden]
    lowered = text.lower()
    for needle in ("http://", "https://", "//cdn", "url(", "@import"):
        assert needle not in lowered, needle


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_html_is_well_formed_and_self_contained(scenario):
    text = rendered(scenario)
    assert_self_contained(text)
    tree = lxml_html.fromstring(text)
    assert tree.find(".//title") is not None
    assert "@media print" in text


def test_html_carries_the_digest_and_the_verdict():
    view = sc.view(sc.phase5_data_loss())
    text = render_html.render(view)
    doc = json.loads(render_json.render(view))
    root = etree.fromstring(text.encode())
    assert root.find(".//meta[@name='deploylog-digest']").get("content") == doc["digest"]
    assert root.find(".//*[@id='log-digest']").text == doc["digest"]
    verdict = root.find(".//p[@class='verdict v-ROLLBACK']")
    assert verdict is not None and sc.DUMP in verdict.text
    assert "☑ DATA LOSS DETECTED (ROLLBACK!)" in text
    assert "☑ ALL DATA INTACT" not in text


def test_charts_for_workflow_distribution_and_phase5():
    text = rendered("phase5_data_loss")
    root = etree.fromstring(text.encode())
    titles = [t.text for t in root.iter("title")]
    assert "4.5 workflow distribution (approval_state)" in titles
    assert "Phase 5: baseline vs post-deployment" in titles
    svg = next(s for s in root.iter("svg") if s.findtext("title").startswith("Phase 5"))
    assert any(r.get("fill") == charts.BAD for r in svg.iter("rect"))  # 5.4's mismatch in the failure colour
    assert "-1" in [t.text for t in svg.iter("text")]
    workflow = next(s for s in root.iter("svg") if s.findtext("title").startswith("4.5"))
    assert {"posted", "131"} <= {t.text for t in workflow.iter("text")}


def test_charts_skip_what_is_not_numeric():
    assert charts.distribution({}, "x") == ""
    assert charts.distribution({"a": "many"}, "x") == ""
    assert charts.before_after([("5.1", None, 3)], "x") == ""
    assert "<svg" in charts.before_after([("5.1", 3, 3)], "x")


def test_evidence_is_escaped():
    hostile = "<script>alert(1)</script> & <img src=x>"
    state = sc.state_of(sc.run(("0",), 0, {"0.1": {"evidence": hostile, "message": hostile}}))
    text = render_html.render(sc.view(state))
    assert_self_contained(text)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text


@pytest.mark.skipif(CHROMIUM is None, reason="chromium not installed (apt-get install -y chromium)")
def test_chromium_renders_the_log_without_console_errors(tmp_path):
    page = tmp_path / "execution-log.html"
    page.write_text(rendered("phase5_data_loss"), encoding="utf-8")
    shot = tmp_path / "shot.png"
    command = [
        CHROMIUM,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={tmp_path / 'profile'}",
        f"--screenshot={shot}",
        "--window-size=1200,3000",
        "--enable-logging=stderr",
        "--v=0",
        page.as_uri(),
    ]
    proc = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert shot.exists() and shot.stat().st_size > 10_000
    console = [line for line in proc.stderr.splitlines() if "CONSOLE" in line]
    assert console == [], console


def test_a_set_aside_state_is_a_banner_in_the_header():
    state = sc.state_of(sc.run(("0",), 0))
    state["set_aside"] = [{"path": "/r/<x>&.state.json.corrupt-20251222T090000Z", "reason": "not valid JSON", "at": sc.at(1)}]
    text = render_html.render(sc.view(state))
    assert_self_contained(text)
    banner = etree.fromstring(text.encode()).find(".//header/p[@class='error-banner']")
    assert banner.text == (
        "State set aside: earlier state set aside at 2025-12-22 09:01:00 UTC: /r/<x>&.state.json.corrupt-20251222T090000Z "
        "(not valid JSON); the results recorded before it are NOT in this log"
    )
