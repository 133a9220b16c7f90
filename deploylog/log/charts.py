"""Small inline SVG charts for the HTML log (no script, no external reference).

- distribution(): horizontal bars, e.g. the approval_state counts of 4.5;
- before_after(): baseline vs post-deployment figure per phase 5 item, the
  mismatching ones drawn in the failure colour.
"""

from __future__ import annotations

from html import escape
from typing import Any

BAR = "#2f6fad"
BEFORE = "#8a99a8"
OK = "#2e7d32"
BAD = "#c62828"
ROW = 22
LABEL_W = 230
BAR_W = 300
VALUE_W = 90


def _num(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)


def _fmt(value: float) -> str:
    return str(int(value)) if value == int(value) else f"{value:g}"


def _svg(width: int, height: int, title: str, body: list[str]) -> str:
    return (
        f'<svg class="chart" role="img" width="{width}" height="{height}" viewBox="0 0 {width} {height}">'
        f"<title>{escape(title)}</title>{''.join(body)}</svg>"
    )


def distribution(counts: dict[str, Any], title: str) -> str:
    """Bars of {label: count}; '' when there is nothing numeric to draw."""
    rows = [(str(label), v) for label, raw in counts.items() if (v := _num(raw)) is not None]
    if not rows:
        return ""
    top = max(v for _, v in rows) or 1.0
    width = LABEL_W + BAR_W + VALUE_W
    body = []
    for n, (label, value) in enumerate(rows):
        y = 6 + n * ROW
        w = max(1.0, BAR_W * value / top) if value else 0.0
        body.append(f'<text x="{LABEL_W - 6}" y="{y + 14}" text-anchor="end">{escape(label)}</text>')
        body.append(f'<rect x="{LABEL_W}" y="{y + 3}" width="{w:.1f}" height="{ROW - 8}" fill="{BAR}"/>')
        body.append(f'<text x="{LABEL_W + w + 6:.1f}" y="{y + 14}">{escape(_fmt(value))}</text>')
    return _svg(width, 12 + len(rows) * ROW, title, body)


def before_after(pairs: list[tuple[str, Any, Any]], title: str) -> str:
    """Grouped bars (baseline, current) per label; '' when no pair is numeric."""
    rows = [(label, b, c) for label, rb, rc in pairs if (b := _num(rb)) is not None and (c := _num(rc)) is not None]
    if not rows:
        return ""
    top = max(max(b, c) for _, b, c in rows) or 1.0
    width = LABEL_W + BAR_W + VALUE_W
    group = 2 * ROW + 8
    body = [
        f'<rect x="{LABEL_W}" y="4" width="10" height="10" fill="{BEFORE}"/>'
        f'<text x="{LABEL_W + 14}" y="13">baseline</text>'
        f'<rect x="{LABEL_W + 90}" y="4" width="10" height="10" fill="{OK}"/>'
        f'<text x="{LABEL_W + 104}" y="13">post-deployment</text>'
    ]
    for n, (label, before, after) in enumerate(rows):
        y = 22 + n * group
        colour = OK if before == after else BAD
        body.append(f'<text x="{LABEL_W - 6}" y="{y + ROW}" text-anchor="end">{escape(label)}</text>')
        for k, (value, fill) in enumerate(((before, BEFORE), (after, colour))):
            w = max(1.0, BAR_W * value / top) if value else 0.0
            yy = y + k * ROW
            body.append(f'<rect x="{LABEL_W}" y="{yy + 3}" width="{w:.1f}" height="{ROW - 8}" fill="{fill}"/>')
            body.append(f'<text x="{LABEL_W + w + 6:.1f}" y="{yy + 14}">{escape(_fmt(value))}</text>')
        if before != after:
            body.append(
                f'<text x="{LABEL_W - 6}" y="{y + ROW + 14}" text-anchor="end" fill="{BAD}">{escape(f"{after - before:+g}")}</text>'
            )
    return _svg(width, 26 + len(rows) * group, title, body)
