"""A session report: one self-contained HTML file to keep or share.

Sections (each a ``<section id=...>``): ``summary`` (a table, one row per look or routine
step), ``timeline`` (the score over time per look, holds marked), ``best-frames`` (each
look's best frame with its score and numbers, when pictures are in the record) and ``cues``
(what the coach said, and for how long). Built from a
:class:`~posecoach.records.SessionRecord` only, so a free practice, a routine (one row per
step, with its time limit and how it ended) and a kept session from the history report alike.
"""

from __future__ import annotations

from posecoach.records import SessionRecord, StepRecord
from posecoach.reports.page import chin, data_uri, document, esc, score, seconds, turn, when
from posecoach.reports.svg import timeline_svg

_DOT = " \u00b7 "
#: How a routine step ended, in words (this module's "hold"/"time", or issue 12's outcomes).
ENDED_BY = {"hold": "a hold", "held": "a hold", "time": "time up", "timed out": "time up",
            "unfinished": "the session ended", "not reached": "not reached"}  # fmt: skip
#: Cue changes listed in full at most (the table of the most shown cues is always complete).
MAX_CUE_LINES = 200

CSS = """
.headline { font-size: 1.05rem; margin: 14px 0 0; }
.frames { display: grid; grid-template-columns: repeat(auto-fill, minmax(280px, 1fr)); gap: 18px; }
figure { margin: 0; }
figure img { width: 100%; height: auto; border-radius: 6px; border: 1px solid var(--line); display: block; }
figcaption { font-size: 0.88rem; margin-top: 6px; }
figcaption strong { color: var(--ink); }
ul.numbers { margin: 4px 0 0; padding-left: 18px; font-size: 0.85rem; color: var(--muted); }
.legend { font-size: 0.8rem; color: var(--muted); margin: 2px 0 0; }
ol.cues { font-size: 0.88rem; padding-left: 22px; columns: 2; column-gap: 32px; }
ol.cues .t { color: var(--muted); font-variant-numeric: tabular-nums; margin-right: 6px; }
details summary { cursor: pointer; color: var(--accent); margin: 8px 0; }
@media print { details { display: block; } h2 { break-after: avoid; } figure, svg { break-inside: avoid; } }
"""


def _title(record: SessionRecord) -> str:
    return f"Routine: {record.routine}" if record.kind == "routine" and record.routine else "Practice session"


def render_report(record: SessionRecord) -> str:
    """The report as a complete HTML document (UTF-8 text)."""
    heading = _title(record)
    meta = [when(record.started), record.source, seconds(record.duration_s), f"{record.frames} frames"]
    meta.append(f"calibrated for {record.profile_name}" if record.profile_name else "uncalibrated")
    if record.id is not None:
        meta.append(f"kept as session {record.id}")
    body = [
        "<header>",
        f"<h1>{esc(heading)}</h1>",
        f'<p class="meta">{_DOT.join(esc(m) for m in meta)}</p>',
        f'<p class="headline">{_headline(record)}</p>',
        "</header>",
        _summary(record),
        _timelines(record),
        _best_frames(record),
        _cues(record),
        "<footer>Made by posecoach on this computer. Everything this page shows is inside this one file: "
        "it loads nothing from anywhere.</footer>",
    ]
    return document(f"posecoach: {heading}, {when(record.started)}", "\n".join(body), CSS)


def _headline(record: SessionRecord) -> str:
    if not record.steps:
        return "Nothing was coached in this session."
    best = max(record.steps, key=lambda s: -1 if s.best_score is None else s.best_score)
    held = sum(1 for s in record.steps if s.holds)
    parts = []
    if best.best_score is not None:
        parts.append(f"Best score <strong>{best.best_score:.0f}/100</strong> ({esc(best.name)}).")
    else:
        parts.append("No face was scored: check the light and that the face is in the frame.")
    noun = "step" if record.kind == "routine" else "look"
    parts.append(f"Held {held} of {len(record.steps)} {noun}{'s' if len(record.steps) != 1 else ''}.")
    rate = record.blink_rate_per_min
    if rate is not None:
        parts.append(f"Blinks: {rate:.0f} a minute.")
    return " ".join(parts)


def _summary(record: SessionRecord) -> str:
    routine = record.kind == "routine"
    head = ["Step" if routine else "Look", "Best score", "Holds", "First hold after", "Steadiness", "Blinks / min",
            "Practised"]  # fmt: skip
    if routine:
        head += ["Time limit", "Ended by"]
    num = {1, 2, 3, 4, 5, 6, 7}
    rows = []
    for s in record.steps:
        rate = s.blink_rate_per_min
        cells = [
            esc(s.name) + (f' <span class="note">({esc(s.title)})</span>' if s.label and s.title != s.label else ""),
            score(s.best_score),
            f'<span class="held">{s.holds}</span>' if s.holds else "0",
            seconds(s.time_to_first_hold_s) if s.time_to_first_hold_s is not None else "not held",
            f"\u00b1{s.steadiness_pts:.1f} pts" if s.steadiness_pts is not None else "\u2013",
            f"{rate:.0f}" if rate is not None else "\u2013",
            seconds(s.practised_s),
        ]
        if routine:
            cells += [seconds(s.time_limit_s), esc(ENDED_BY.get(s.ended_by, s.ended_by))]
        rows.append("<tr>" + "".join(f'<td class="num">{c}</td>' if i in num else f"<td>{c}</td>"
                                     for i, c in enumerate(cells)) + "</tr>")  # fmt: skip
    header = "".join(f'<th class="num">{h}</th>' if i in num else f"<th>{h}</th>" for i, h in enumerate(head))
    return (
        '<section id="summary"><h2>Summary</h2>'
        f"<table><thead><tr>{header}</tr></thead><tbody>{''.join(rows)}</tbody></table>"
        '<p class="note">First hold after: practising time before the look was first held (the hold itself '
        "included). Steadiness: the typical wobble of the score within a second, in score points (lower is "
        "steadier). Blinks per minute of face in view.</p></section>"
    )


def _timelines(record: SessionRecord) -> str:
    parts = ['<section id="timeline"><h2>Score over time</h2>']
    for s in record.steps:
        parts.append(f"<figure><h3>{esc(s.name)}</h3>{timeline_svg(s, record.duration_s)}</figure>")
    parts.append('<p class="legend">Blue: the score (0-100). Dashed: the score a hold needs. Shaded: holding the '
                 "look. Green marker: a hold achieved. Ring: the best moment.</p></section>")  # fmt: skip
    return "".join(parts)


def _numbers(s: StepRecord) -> str:
    items = []
    for name, label, fmt in (("smile", "smile", "{:.2f}"), ("yaw", "", None), ("pitch", "", None),
                             ("eye_open", "eyes open", "{:.2f}"), ("squinch", "squinch", "{:.2f}"),
                             ("gaze_on_lens", "eyes on the lens", "{:.2f}")):  # fmt: skip
        v = s.metric(name)
        if v is None:
            continue
        if name == "yaw":
            items.append(f"head {turn(v)}")
        elif name == "pitch":
            items.append(chin(v))
        else:
            items.append(f"{label} {fmt.format(v)}")
    return "<ul class=\"numbers\">" + "".join(f"<li>{esc(i)}</li>" for i in items) + "</ul>" if items else ""


def _best_frames(record: SessionRecord) -> str:
    parts = ['<section id="best-frames"><h2>Best frames</h2>']
    shown = [s for s in record.steps if s.best_jpeg]
    if shown:
        parts.append('<p class="note">As the camera saw you (not mirrored).</p><div class="frames">')
        for s in shown:
            when_s = f" at {s.best_t_s:.1f}\u00a0s" if s.best_t_s is not None else ""
            parts.append(
                f'<figure><img src="{data_uri(s.best_jpeg)}" alt="Best frame: {esc(s.name)}, score {score(s.best_score)}">'
                f"<figcaption><strong>{esc(s.name)}</strong>: {score(s.best_score)}/100{when_s}{_numbers(s)}"
                "</figcaption></figure>"
            )
        parts.append("</div>")
    missing = [s for s in record.steps if not s.best_jpeg]
    if missing and not shown:
        parts.append('<p class="note">Pictures were not kept for this session (tick \u201ckeep pictures\u201d, '
                     "or pass --keep-pictures, to keep each look's best frame).</p>")  # fmt: skip
    elif missing:
        parts.append('<p class="note">No scored frame for: ' + ", ".join(esc(s.name) for s in missing) + ".</p>")
    parts.append("</section>")
    return "".join(parts)


def _cues(record: SessionRecord) -> str:
    parts = ['<section id="cues"><h2>What the coach said</h2>']
    for s in record.steps:
        parts.append(f"<h3>{esc(s.name)}</h3>")
        if not s.cue_seconds:
            parts.append('<p class="note">No cue: nothing to change (or no face in view).</p>')
            continue
        rows = "".join(f'<tr><td>{esc(text)}</td><td class="num">{seconds(t)}</td></tr>' for text, t in s.cue_seconds)
        parts.append(f'<table class="cue-table"><thead><tr><th>Cue</th><th class="num">Shown for</th></tr></thead>'
                     f"<tbody>{rows}</tbody></table>")  # fmt: skip
        changes = [(t, text) for t, text in s.cues if text]
        if changes:
            lines = "".join(f'<li><span class="t">{t:.1f} s</span>{esc(text)}</li>' for t, text in changes[:MAX_CUE_LINES])
            more = len(changes) - MAX_CUE_LINES
            tail = f'<p class="note">\u2026 and {more} more changes.</p>' if more > 0 else ""
            parts.append(f"<details><summary>In order ({len(changes)} cue{'s' if len(changes) != 1 else ''})</summary>"
                         f'<ol class="cues">{lines}</ol>{tail}</details>')  # fmt: skip
    parts.append("</section>")
    return "".join(parts)
