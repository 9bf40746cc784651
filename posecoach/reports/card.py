"""The hand-off card: one printable page for the photographer.

From a :class:`~posecoach.records.SessionRecord`: the person's calibrated neutral (from the
calibration profile in use, if any), their best side (when measured), the smile that reads
best on them, the chin and turn that hit their looks, their blink rate, and which looks they
can hold. Sections: ``neutral``, ``best-side``, ``smile``, ``angles``, ``blinks``, ``looks``.
"""

from __future__ import annotations

from posecoach.calibration import CalibrationError, CalibrationProfile, profile_from_dict
from posecoach.records import SessionRecord, StepRecord
from posecoach.reports.page import chin, chin_band, data_uri, document, esc, score, seconds, turn, turn_band, when

#: A look whose target asks for at least this much smile is a smiling look.
SMILING_LOOK_FROM = 0.2
#: Blink rates (a minute) a photographer should hear about; at rest most people blink 15-20.
FEW_BLINKS, MANY_BLINKS = 8.0, 26.0
#: Below this many seconds of face the blink rate is a rough figure.
ROUGH_BLINKS_S = 30.0
#: One eye reading this much less open than the other at rest is worth a line.
EYE_DIFFERENCE = 0.12

CSS = """
@page { size: A4; margin: 12mm; }
main { max-width: 820px; }
.card-head { display: flex; gap: 20px; align-items: flex-start; justify-content: space-between; }
.card-head img { width: 190px; height: auto; border-radius: 6px; border: 1px solid var(--line); }
.grid { display: grid; grid-template-columns: 1fr 1fr; gap: 4px 28px; }
.grid section.wide { grid-column: 1 / -1; }
h2 { margin-top: 18px; }
p { margin: 4px 0; }
ul.looks { list-style: none; padding: 0; margin: 0; }
ul.looks li { padding: 3px 0; }
.yes { color: var(--good); font-weight: 700; }
.no { color: var(--muted); font-weight: 700; }
.big { font-size: 1.25rem; font-weight: 600; }
@media print { body { font-size: 11pt; } main { padding: 0; } h2 { font-size: 12pt; } .grid { gap: 0 20px; } }
"""


def _profile(record: SessionRecord) -> CalibrationProfile | None:
    if not record.profile:
        return None
    try:
        return profile_from_dict(record.profile, "the session's calibration")
    except CalibrationError:
        return None


def render_card(record: SessionRecord) -> str:
    """The card as a complete HTML document."""
    profile = _profile(record)
    who = record.profile_name or "the client"
    best = max((s for s in record.steps if s.best_jpeg), key=lambda s: s.best_score or 0.0, default=None)
    picture = f'<img src="{data_uri(best.best_jpeg)}" alt="Their best frame: {esc(best.name)}">' if best else ""
    body = [
        '<header class="card-head"><div>',
        "<h1>Hand-off card</h1>",
        f'<p class="meta">For the photographer \u00b7 {esc(who)} \u00b7 practised {esc(when(record.started))} '
        f"\u00b7 {esc(record.source)}</p></div>{picture}</header>",
        '<div class="grid">',
        _neutral(profile),
        _best_side(record),
        _smile(record, profile),
        _blinks(record),
        _angles(record, profile),
        _looks(record),
        "</div>",
        "<footer>Measured by posecoach on a webcam: head angles are good to about \u00b15\u00b0. Turns are the "
        "subject's own left and right.</footer>",
    ]
    return document(f"posecoach hand-off card: {who}, {when(record.started)}", "\n".join(body), CSS)


def _neutral(p: CalibrationProfile | None) -> str:
    out = ['<section id="neutral"><h2>Their neutral</h2>']
    if p is None:
        out.append("<p>Not calibrated: the numbers on this card are on posecoach's common scale, not relative "
                   "to their own face.</p></section>")  # fmt: skip
        return "".join(out)
    out.append(f"<p>Looking into the lens at rest: head {esc(turn(p.yaw_offset_deg))}, {esc(chin(p.pitch_offset_deg))}, "
               f"tilt {p.roll_offset_deg:+.0f}\u00b0 <span class=\"note\">(on their practice camera; a camera "
               "below eye level reads as chin up)</span>.</p>")  # fmt: skip
    if p.smile_neutral >= 0.25:
        out.append(f"<p>Their resting face already reads as a slight smile ({p.smile_neutral:.2f}).</p>")
    else:
        out.append(f"<p>A relaxed mouth at rest ({p.smile_neutral:.2f}); broadest smile {p.smile_full:.2f}.</p>")
    # eye_open_left is the eye on the image's left: the subject's own right eye.
    right, left = p.eye_open_left, p.eye_open_right
    if max(right, left) > 0 and abs(right - left) / max(right, left) >= EYE_DIFFERENCE:
        smaller = "right" if right < left else "left"
        pct = 100.0 * abs(right - left) / max(right, left)
        out.append(f"<p>Their {smaller} eye sits {pct:.0f}% more closed at rest.</p>")
    else:
        out.append("<p>Eyes open evenly at rest.</p>")
    out.append("</section>")
    return "".join(out)


def _best_side(record: SessionRecord) -> str:
    side = record.best_side
    if side is None:
        text = '<p class="note">Not measured yet (posecoach\u2019s best-side check).</p>'
    elif side.side in ("left", "right"):
        sure = f" ({side.confidence:.0%} sure)" if side.confidence is not None else ""
        text = f'<p class="big">Their {esc(side.side)} side{esc(sure)}</p>'
    elif side.detail.startswith("Not enough"):  # the check ran but the turns were too small or short
        return f'<section id="best-side"><h2>Best side</h2><p class="note">{esc(side.detail)}</p></section>'
    else:
        text = '<p class="big">No clear difference</p>'
    if side is not None and side.detail:
        text += f'<p class="note">{esc(side.detail)}</p>'
    return f'<section id="best-side"><h2>Best side</h2>{text}</section>'


def _smile_words(value: float, calibrated: bool) -> str:
    if calibrated:  # 0 = their resting face, 1 = their broadest smile
        return ("barely a smile" if value < 0.2 else "a soft smile" if value < 0.5
                else "an open smile" if value < 0.8 else "their biggest smile")  # fmt: skip
    return ("no smile" if value < 0.35 else "a soft, closed-mouth smile" if value < 0.6
            else "an open smile" if value < 0.85 else "a big laugh")  # fmt: skip


def _smile_step(record: SessionRecord) -> StepRecord | None:
    """The smiling look they were in longest (else any look they were in)."""
    def in_look(s: StepRecord) -> bool:
        return s.band("smile") is not None and s.in_look_s > 0

    candidates = [s for s in record.steps if in_look(s) and (s.aim_for("smile") or (0.0, 0.0))[0] >= SMILING_LOOK_FROM]
    candidates = candidates or [s for s in record.steps if in_look(s)]
    return max(candidates, key=lambda s: s.in_look_s, default=None)


def _smile(record: SessionRecord, p: CalibrationProfile | None) -> str:
    out = ['<section id="smile"><h2>The smile that reads best</h2>']
    step = _smile_step(record)
    band = step.band("smile") if step is not None else None
    if step is None or band is None:
        out.append('<p class="note">Not measured: they were not in a look long enough to tell.</p></section>')
        return "".join(out)
    calibrated = p is not None
    out.append(f'<p class="big">{esc(_smile_words(band.p50, calibrated))}</p>')
    scale = ("0 = their resting face, 1 = their broadest smile" if calibrated
             else "posecoach's scale: 0.35 and up reads as smiling")  # fmt: skip
    out.append(f"<p>Smile {band.p10:.2f}\u2013{band.p90:.2f} ({esc(scale)}) while in \u201c{esc(step.name)}\u201d "
               f"for {seconds(step.in_look_s)}.</p>")  # fmt: skip
    squinch = step.band("squinch")
    if squinch is not None and squinch.p50 >= 0.2:
        out.append(f"<p>With a squinch (lower lids lifted) of {squinch.p10:.2f}\u2013{squinch.p90:.2f}.</p>")
    out.append("</section>")
    return "".join(out)


def _angles(record: SessionRecord, p: CalibrationProfile | None) -> str:
    rows = []
    for s in record.steps:
        yaw, pitch = s.band("yaw"), s.band("pitch")
        if yaw is None or pitch is None or s.in_look_s <= 0:
            rows.append(f"<tr><td>{esc(s.name)}</td><td colspan=\"2\" class=\"note\">not in the look yet "
                        f"(best {score(s.best_score)})</td></tr>")  # fmt: skip
            continue
        rows.append(f"<tr><td>{esc(s.name)}</td><td>{esc(turn_band(yaw.p10, yaw.p90))}</td>"
                    f"<td>{esc(chin_band(pitch.p10, pitch.p90))}</td></tr>")  # fmt: skip
    ref = ("from their own level, calibrated" if p is not None else "as their camera saw it (not calibrated)")
    return (
        '<section id="angles" class="wide"><h2>Chin and turn that hit the look</h2>'
        "<table><thead><tr><th>Look</th><th>Turn</th><th>Chin</th></tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table>"
        f'<p class="note">The middle 80% of the frames in each look; chin {esc(ref)}.</p></section>'
    )


def _blinks(record: SessionRecord) -> str:
    rate = record.blink_rate_per_min
    out = ['<section id="blinks"><h2>Blinks</h2>']
    if rate is None:
        out.append('<p class="note">Not measured (no face in view).</p></section>')
        return "".join(out)
    out.append(f'<p class="big">{rate:.0f} a minute</p>')
    if rate >= MANY_BLINKS:
        out.append("<p>Blinks often: shoot short bursts, or ask them to close their eyes and open on a count.</p>")
    elif rate <= FEW_BLINKS:
        out.append("<p>Few blinks: long holds are safe.</p>")
    else:
        out.append("<p>A usual rate (most people blink 15\u201320 times a minute at rest).</p>")
    if record.face_s < ROUGH_BLINKS_S:
        out.append(f'<p class="note">From only {seconds(record.face_s)} of face in view: a rough figure.</p>')
    out.append("</section>")
    return "".join(out)


def _looks(record: SessionRecord) -> str:
    items = []
    for s in record.steps:
        if s.holds:
            first = f", first after {seconds(s.time_to_first_hold_s)}" if s.time_to_first_hold_s is not None else ""
            items.append(f'<li><span class="yes">\u2713</span> {esc(s.name)}: held {s.holds}\u00d7{first} '
                         f"(best {score(s.best_score)})</li>")  # fmt: skip
        else:
            items.append(f'<li><span class="no">\u2717</span> {esc(s.name)}: not held yet (best {score(s.best_score)})</li>')
    return f'<section id="looks" class="wide"><h2>Looks they can hold</h2><ul class="looks">{"".join(items)}</ul></section>'
