"""A step's score over time as inline SVG: the score line, the hold threshold, the seconds in a
hold shaded, a marker where each hold was achieved, and the best moment.

Pure string building (no plotting library: a report must open offline and stay small).
"""

from __future__ import annotations

from posecoach.records import StepRecord
from posecoach.reports.page import esc

WIDTH, HEIGHT = 760, 190
_LEFT, _RIGHT, _TOP, _BOTTOM = 40, 14, 16, 28
#: Candidate tick spacings (seconds): the first giving at most 8 ticks is used.
_TICKS_S = (0.25, 0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600)


def _tick_label(t: float, step: float) -> str:
    if step >= 60:
        return f"{int(t // 60)}:{int(t % 60):02d}"
    return f"{t:g} s"


def timeline_svg(step: StepRecord, duration_s: float) -> str:
    """The chart for one step over the whole session (``duration_s`` seconds wide)."""
    span = max(duration_s, step.timeline_step_s, 1e-3)
    w, h = WIDTH - _LEFT - _RIGHT, HEIGHT - _TOP - _BOTTOM

    def x(t: float) -> float:
        return _LEFT + w * min(max(t, 0.0), span) / span

    def y(s: float) -> float:
        return _TOP + h * (1.0 - min(max(s, 0.0), 100.0) / 100.0)

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" width="100%" role="img" '
        f'class="timeline" aria-label="Score over time for {esc(step.name)}">',
        f"<title>Score over time: {esc(step.name)}</title>",
    ]
    bin_s = step.timeline_step_s
    for p in step.timeline:  # seconds in a hold, shaded
        if p.held:
            parts.append(f'<rect class="held" x="{x(p.t_s):.1f}" y="{_TOP}" width="{max(1.0, x(p.t_s + bin_s) - x(p.t_s)):.1f}" '
                         f'height="{h}" fill="#2e9d4a" fill-opacity="0.16"/>')  # fmt: skip
    for v in (0, 50, 100):
        parts.append(f'<line x1="{_LEFT}" x2="{_LEFT + w}" y1="{y(v):.1f}" y2="{y(v):.1f}" stroke="#d9dee3"/>'
                     f'<text x="{_LEFT - 6}" y="{y(v) + 4:.1f}" text-anchor="end" font-size="11" fill="#5d6873">{v}</text>')  # fmt: skip
    tick = next((t for t in _TICKS_S if span / t <= 8), _TICKS_S[-1])
    n = int(span / tick + 1e-9)
    for i in range(n + 1):
        t = i * tick
        parts.append(f'<line x1="{x(t):.1f}" x2="{x(t):.1f}" y1="{_TOP + h}" y2="{_TOP + h + 4}" stroke="#5d6873"/>'
                     f'<text x="{x(t):.1f}" y="{HEIGHT - 8}" text-anchor="middle" font-size="11" fill="#5d6873">'
                     f"{_tick_label(t, tick)}</text>")  # fmt: skip
    if step.threshold is not None:
        ty = y(step.threshold)
        parts.append(f'<line class="threshold" x1="{_LEFT}" x2="{_LEFT + w}" y1="{ty:.1f}" y2="{ty:.1f}" stroke="#2e9d4a" '
                     f'stroke-dasharray="5 4"/><text x="{_LEFT + w - 2}" y="{ty - 4:.1f}" text-anchor="end" font-size="11" '
                     f'fill="#2e9d4a">hold from {step.threshold:.0f}</text>')  # fmt: skip
    for path in _paths(step, x, y):
        parts.append(f'<polyline class="score" points="{path}" fill="none" stroke="#2f6fb0" stroke-width="2" '
                     f'stroke-linejoin="round"/>')  # fmt: skip
    for i, t in enumerate(step.hold_times_s, 1):
        hx = x(t)
        parts.append(f'<g class="hold"><title>hold {i} achieved at {t:.1f} s</title>'
                     f'<line x1="{hx:.1f}" x2="{hx:.1f}" y1="{_TOP}" y2="{_TOP + h}" stroke="#2e9d4a" stroke-width="1.5"/>'
                     f'<path d="M{hx - 6:.1f},{_TOP - 2} L{hx + 6:.1f},{_TOP - 2} L{hx:.1f},{_TOP + 8} Z" fill="#2e9d4a"/></g>')  # fmt: skip
    if step.best_score is not None and step.best_t_s is not None:
        bx, by = x(step.best_t_s), y(step.best_score)
        parts.append(f'<g class="best"><title>best {step.best_score:.0f} at {step.best_t_s:.1f} s</title>'
                     f'<circle cx="{bx:.1f}" cy="{by:.1f}" r="4.5" fill="#fff" stroke="#b7791f" stroke-width="2"/></g>')  # fmt: skip
    parts.append("</svg>")
    return "".join(parts)


def _paths(step: StepRecord, x, y) -> list[str]:  # noqa: ANN001 - the chart's scales
    """Polyline point lists at bin centres, broken where no score was measured."""
    bin_s = step.timeline_step_s
    runs: list[list[tuple[float, float]]] = [[]]
    last_t = None
    for p in step.timeline:
        if p.score is None or (last_t is not None and p.t_s - last_t > 1.5 * bin_s):
            runs.append([])
        if p.score is not None:
            runs[-1].append((x(p.t_s + bin_s / 2), y(p.score)))
        last_t = p.t_s
    out = []
    for run in runs:
        if len(run) == 1:  # a lone point: a short flat stroke so it shows
            run = [(run[0][0] - 2, run[0][1]), (run[0][0] + 2, run[0][1])]
        if run:
            out.append(" ".join(f"{a:.1f},{b:.1f}" for a, b in run))
    return out
