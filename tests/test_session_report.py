"""The session report and the hand-off card (posecoach.reports): built from a real clip, their
sections, embedded pictures and timeline; everything user-supplied escaped; a routine's steps
and a best side slot in."""

from __future__ import annotations

import base64
import dataclasses
import re
from html.parser import HTMLParser
from pathlib import Path

import cv2
import numpy as np
import pytest

from factories import synthetic_profile
from posecoach.records import BestSide, SessionRecord, StepRecord, TimelinePoint
from posecoach.reports import render_card, render_report
from posecoach.reports.page import CSP
from session_factory import synthetic_record

CLIP = Path(__file__).resolve().parents[2] / "shared" / "media" / "single_face.mp4"


class Page(HTMLParser):
    """What a browser would load and show: tags with their attributes, sections, text."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str]]] = []
        self.text: list[str] = []
        self.feed(text)

    def handle_starttag(self, tag: str, attrs: list) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text.append(data)

    def all(self, tag: str, **match: str) -> list[dict[str, str]]:
        return [a for t, a in self.tags if t == tag and all(a.get(k) == v for k, v in match.items())]

    @property
    def sections(self) -> list[str]:
        return [a["id"] for a in self.all("section")]

    @property
    def plain(self) -> str:
        return " ".join(" ".join(self.text).split())


def assert_self_contained(page: Page) -> None:
    """Nothing to fetch: pictures are data: URIs, no script, no link, no external reference."""
    assert page.all("meta", **{"http-equiv": "Content-Security-Policy"})[0]["content"] == CSP
    for tag, attrs in page.tags:
        assert tag not in ("script", "link", "iframe", "object", "embed"), tag
        for name in ("src", "href", "srcset", "action", "poster"):
            if name in attrs:
                assert attrs[name].startswith("data:image/jpeg;base64,"), (tag, name, attrs[name][:60])


def decode(uri: str) -> np.ndarray:
    data = base64.b64decode(uri.split(",", 1)[1])
    return cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)


@pytest.fixture(scope="module")
def clip_record() -> SessionRecord:
    """single_face.mp4 coached on the friendly profile look, calibrated, as a kept session."""
    if not CLIP.is_file():
        pytest.skip(f"real face media not found at {CLIP.parent} (see ../shared/media)")
    from posecoach.runs import CoachSettings, run_source
    from posecoach.sources import open_source
    from posecoach.targets import load_library

    target = load_library()["friendly_profile"]
    profile = synthetic_profile("ana")
    source = open_source(CLIP)
    try:
        run = run_source(source, target, CoachSettings(target.name, profile=profile))
    finally:
        source.close()
    return run.session.tally.record(source="single_face.mp4", profile=profile.to_dict())


# -- the report ---------------------------------------------------------------------------------
def test_a_report_of_a_real_clip(clip_record: SessionRecord) -> None:
    text = render_report(clip_record)
    page = Page(text)
    assert_self_contained(page)
    assert page.sections == ["summary", "timeline", "best-frames", "cues"]
    assert page.all("h1")[0] is not None and "Practice session" in page.plain
    assert "single_face.mp4" in page.plain and "calibrated for ana" in page.plain
    # Summary: one look, its best score, one hold, the first after ~2.1 s, one blink in 2.4 s.
    summary = re.search(r'<section id="summary">.*?</section>', text, re.S)[0]
    cells = [re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", summary)]
    step = clip_record.steps[0]
    assert cells[0] == "Friendly profile photo"
    assert cells[1] == f"{step.best_score:.0f}" and step.best_score >= step.threshold == 82
    assert cells[2] == "1"
    assert re.fullmatch(r"2\.\d s", cells[3]) and abs(float(cells[3][:-2]) - step.time_to_first_hold_s) < 0.06
    assert re.fullmatch(r"±\d+\.\d pts", cells[4])
    assert cells[5] == f"{60.0 / clip_record.face_s:.0f}" == "25"
    # The one best frame, embedded: the clip's own 640x360 picture.
    (img,) = page.all("img")
    assert img["alt"] == f"Best frame: Friendly profile photo, score {step.best_score:.0f}"
    assert decode(img["src"]).shape == (360, 640, 3)
    # The timeline: a score line, the threshold, the hold achieved, the seconds held shaded.
    svg = re.search(r'<section id="timeline">.*?</section>', text, re.S)[0]
    assert svg.count('<polyline class="score"') >= 1
    assert svg.count('<g class="hold">') == 1 and "hold 1 achieved at 2.1 s" in svg
    assert svg.count('<rect class="held"') == sum(1 for p in step.timeline if p.held) > 0
    assert 'class="threshold"' in svg and "hold from 82" in svg
    # What the coach said, longest first.
    cues = re.search(r'<section id="cues">.*?</section>', text, re.S)[0]
    assert cues.index("Lovely, hold that") < cues.index("Bigger smile")


def test_a_report_without_pictures_says_so(clip_record: SessionRecord) -> None:
    page = Page(render_report(clip_record.without_pictures()))
    assert page.all("img") == []
    assert "Pictures were not kept for this session" in page.plain


def test_everything_user_supplied_is_escaped() -> None:
    evil = '<img src="http://127.0.0.1:9/leak.png" onerror="alert(1)">'
    base = synthetic_record(60, source=f"{evil}.mp4")
    step = dataclasses.replace(base.steps[0], title=f"Look {evil}", label=f"Step {evil}",
                               cues=((0.0, f"cue {evil}"),), cue_seconds=((f"cue {evil}", 1.0),))  # fmt: skip
    record = dataclasses.replace(base, steps=(step,), kind="routine", routine=f"Routine {evil}",
                                 profile={**synthetic_profile("ana").to_dict(), "name": f"ana{evil}"},
                                 best_side=BestSide("left", 0.7, f"detail {evil}"))  # fmt: skip
    for text in (render_report(record), render_card(record)):
        assert evil not in text and "<img src=\"http" not in text
        assert "&lt;img src=&quot;http://127.0.0.1:9/leak.png&quot; onerror=&quot;alert(1)&quot;&gt;" in text
        assert_self_contained(Page(text))


def test_a_routine_reports_its_steps_with_time_limits_and_how_they_ended() -> None:
    """The seam for routines (issue 12): per-step records in, one row per step out."""
    steps = (
        StepRecord("passport_neutral", "Passport neutral", label="Breathe and relax", threshold=80.0,
                   time_limit_s=20.0, ended_by="time", practised_s=20.0, face_s=20.0, best_score=71.0, blinks=6,
                   timeline=(TimelinePoint(0.0, 60.0), TimelinePoint(1.0, 71.0))),
        StepRecord("genuine_laugh", "Genuine laugh", label="Big laugh", threshold=80.0, time_limit_s=15.0,
                   ended_by="hold", started_s=20.0, practised_s=6.5, face_s=6.5, best_score=93.0, holds=1,
                   hold_times_s=(26.5,), time_to_first_hold_s=6.5, steadiness_pts=2.4,
                   timeline=(TimelinePoint(20.0, 70.0), TimelinePoint(26.0, 93.0, True))),
    )  # fmt: skip
    record = SessionRecord("2026-03-04T19:30:00+01:00", "live camera", steps, duration_s=26.5, frames=795,
                           kind="routine", routine="Photographer's warm-up")  # fmt: skip
    text = render_report(record)
    page = Page(text)
    assert "Routine: Photographer's warm-up" in page.plain
    header = re.findall(r"<th(?: [^>]*)?>(.*?)</th>", text)
    assert header[0] == "Step" and header[-2:] == ["Time limit", "Ended by"]
    rows = [[re.sub(r"<[^>]+>", "", c) for c in re.findall(r"<td[^>]*>(.*?)</td>", r)]
            for r in re.findall(r"<tr><td.*?</tr>", re.search(r'id="summary">.*?</section>', text, re.S)[0])]  # fmt: skip
    assert rows[0][0] == "Breathe and relax (Passport neutral)" and rows[0][-2:] == ["20.0 s", "time up"]
    assert rows[1][3] == "6.5 s" and rows[1][-1] == "a hold"
    assert "Held 1 of 2 steps." in page.plain and "4 March" not in page.plain
    assert "4 Mar 2026, 19:30" in page.plain


# -- the card -------------------------------------------------------------------------------------
def test_the_hand_off_card_of_a_real_clip(clip_record: SessionRecord) -> None:
    text = render_card(clip_record)
    page = Page(text)
    assert_self_contained(page)
    assert page.sections == ["neutral", "best-side", "smile", "blinks", "angles", "looks"]
    assert "@page { size: A4" in text
    plain = page.plain
    assert "For the photographer · ana" in plain
    # Their neutral, from the calibration profile (synthetic: level head, chin 12° up at rest).
    assert "Looking into the lens at rest: head straight to the lens, chin 12° up" in plain
    assert "Not measured yet" in plain, "no best side in the record"
    # The smile that reads best: his broad smile, calibrated scale.
    band = clip_record.steps[0].band("smile")
    assert f"Smile {band.p10:.2f}–{band.p90:.2f} (0 = their resting face, 1 = their broadest smile)" in plain
    assert "25 a minute" in plain and "a rough figure" in plain
    angles = re.search(r'<section id="angles".*?</section>', text, re.S)[0]
    assert "to their right" in angles and "chin" in angles
    step = clip_record.steps[0]
    assert f"✓ Friendly profile photo: held 1×, first after 2.1 s (best {step.best_score:.0f})" in plain
    (img,) = page.all("img")
    assert decode(img["src"]).shape == (360, 640, 3)


def test_the_card_uncalibrated_with_a_best_side_and_a_look_not_held() -> None:
    held = synthetic_record(70)
    missed = synthetic_record(71, best=60.0, hold_at_s=None)
    record = dataclasses.replace(held, steps=(held.steps[0], dataclasses.replace(missed.steps[0], title="Big laugh",
                                 target="genuine_laugh")), best_side=BestSide("left", 0.82, "left eye 8% more open"))  # fmt: skip
    plain = Page(render_card(record.without_pictures())).plain
    assert "Not calibrated: the numbers on this card are on posecoach's common scale" in plain
    assert "Their left side (82% sure)" in plain and "left eye 8% more open" in plain
    assert "✗ Big laugh: not held yet (best 60)" in plain
    assert "posecoach's scale: 0.35 and up reads as smiling" in plain
    assert "For the photographer · the client" in plain
    no_diff = dataclasses.replace(record, best_side=BestSide("none"))
    assert "No clear difference" in Page(render_card(no_diff)).plain
