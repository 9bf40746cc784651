"""What a session amounts to (posecoach.tally): blinks, holds, steadiness, timeline, cues, best
frames; on synthetic frame results with known answers, and on a real clip against its labels."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from factories import FRAME_MS, metrics
from posecoach.records import SessionRecord
from posecoach.results import Cue, EyeState, FaceFrame, FrameResult, HoldState, TargetScore
from posecoach.tally import KEEP_MAX_SIDE, SessionTally
from posecoach.targets import MetricRange, Target

LOOK = Target("look", "The look", "", (MetricRange("smile", 0.3, 0.6, 0.2),), hold_s=1.0, threshold=80.0)
OTHER = Target("other", "Another look", "", (MetricRange("smile", 0.0, 0.1, 0.2),), hold_s=1.0, threshold=80.0)


def frame(t_ms: float, score: float | None = 70.0, *, eyes: EyeState = EyeState.OPEN, face: bool = True,
          held: bool = False, just: bool = False, cue: str = "", target: str = "look", occluded: tuple = (),
          smile: float = 0.4) -> FrameResult:  # fmt: skip
    m = metrics(eyes=eyes, smile=smile) if face else None
    s = TargetScore(target, score, ()) if (face and score is not None) else None
    return FrameResult(int(t_ms / FRAME_MS), int(t_ms), FaceFrame.empty((640, 360), int(t_ms)), m, m, s, Cue(cue),
                       HoldState(1.0 if held else 0.0, held, 0, just), occluded)  # fmt: skip


def tally_of(results, target: Target = LOOK, images=None) -> SessionRecord:  # noqa: ANN001
    tally = SessionTally()
    for i, r in enumerate(results):
        tally.update(r, target=target, image=None if images is None else images[i])
    return tally.record(source="test")


def stream(pattern: str, **kw) -> list[FrameResult]:  # noqa: ANN003
    """One frame per character at 30 fps: ``o`` eyes open, ``c`` closed, ``.`` no face,
    ``d`` looking down, ``x`` eyes covered."""
    out = []
    for i, ch in enumerate(pattern):
        t = i * FRAME_MS
        if ch == ".":
            out.append(frame(t, face=False, **kw))
        elif ch == "x":
            out.append(frame(t, eyes=EyeState.CLOSED, occluded=("eyes",), **kw))
        else:
            eyes = {"o": EyeState.OPEN, "c": EyeState.CLOSED, "d": EyeState.LOOKING_DOWN}[ch]
            out.append(frame(t, eyes=eyes, **kw))
    return out


# -- blinks -----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("pattern", "blinks"),
    [
        ("oooooccco" + "o" * 20, 1),  # a 100 ms blink
        ("ooocooooccooooccco" + "o" * 5, 3),  # three, one of a single frame
        ("ooo" + "c" * 14 + "ooo", 1),  # 467 ms: still a (slow) blink
        ("ooo" + "c" * 16 + "ooo", 0),  # 533 ms: the eyes were closed, not a blink
        ("ccccoooooo", 0),  # closed from the start: the opening is not a blink we saw
        ("oooc.coooo", 0),  # the face was lost mid-closure
        ("oooxxxoooo", 0),  # covered eyes are not closed eyes
        ("oooccc", 0),  # never reopened
        ("ooddddoooo", 0),  # a glance down is not a blink
        ("ooodccoooo", 1),  # looking down, then a blink
    ],
)
def test_blinks_are_short_closures_seen_from_open_to_open(pattern: str, blinks: int) -> None:
    assert tally_of(stream(pattern)).steps[0].blinks == blinks


def test_blink_rate_is_per_minute_of_face_in_view() -> None:
    # 60 s at 30 fps with a face, a 100 ms blink every 20 s, then 30 s without a face.
    pattern = "".join("c" if 300 <= i % 600 < 303 else "o" for i in range(1800)) + "." * 900
    rec = tally_of(stream(pattern))
    step = rec.steps[0]
    assert step.blinks == 3
    assert step.face_s == pytest.approx(60.0, abs=0.1)
    assert step.blink_rate_per_min == pytest.approx(3.0, abs=0.01)
    assert rec.blink_rate_per_min == pytest.approx(3.0, abs=0.01)


# -- holds -------------------------------------------------------------------------------------
def test_time_to_first_hold_counts_only_time_practising_that_look() -> None:
    """5 s on the look, 10 s on another, 2 s back on the look and the hold lands: 7 s.
    A 20 s pause (camera stopped) in between does not count either."""
    tally = SessionTally()
    t = 0.0
    for target, seconds, score in ((LOOK, 5.0, 60.0), (OTHER, 10.0, 50.0), (LOOK, 2.0, 90.0)):
        if target is OTHER:
            t += 20_000.0  # a pause while on the other look
        for _ in range(int(seconds * 30)):
            t += FRAME_MS
            tally.update(frame(t, score, target=target.name), target=target)
    tally.update(frame(t + FRAME_MS, 95.0, held=True, just=True), target=LOOK)
    rec = tally.record(source="test")
    look, other = rec.steps
    assert (look.target, other.target) == ("look", "other")
    assert look.holds == 1 and other.holds == 0
    assert look.time_to_first_hold_s == pytest.approx(7.0, abs=0.1)
    assert other.time_to_first_hold_s is None
    assert look.hold_times_s == (pytest.approx((t + FRAME_MS - FRAME_MS) / 1000.0, abs=0.01),)
    assert look.practised_s == pytest.approx(7.0, abs=0.1) and other.practised_s == pytest.approx(10.0, abs=0.1)
    assert look.best_score == 95.0 and other.best_score == 50.0
    assert rec.targets == ("look", "other") and rec.best_score == 95.0


def test_a_routine_step_is_its_own_step_even_for_a_target_seen_before() -> None:
    tally = SessionTally()
    t = 0.0
    for label, target, ended in (("Relax", OTHER, "time"), ("Smile", LOOK, "hold"), ("Relax again", OTHER, "time")):
        tally.begin_step(target, label=label, time_limit_s=20.0)
        for _ in range(30):
            t += FRAME_MS
            tally.update(frame(t, 60.0, target=target.name), target=target)
        tally.end_step(ended)
    rec = tally.record(source="test", kind="routine", routine="Warm-up")
    assert [(s.label, s.target, s.ended_by, s.time_limit_s) for s in rec.steps] == [
        ("Relax", "other", "time", 20.0), ("Smile", "look", "hold", 20.0), ("Relax again", "other", "time", 20.0)]  # fmt: skip
    assert [s.frames for s in rec.steps] == [30, 30, 30]
    assert rec.steps[2].started_s == pytest.approx(60 * FRAME_MS / 1000.0, abs=1e-3)


# -- steadiness and timeline -----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("scores", "expected"),
    [
        ([90.0] * 90, 0.0),  # rock steady
        ([85.0, 95.0] * 45, 5.0),  # +-5 points every frame
        ([50.0] * 30 + [90.0] * 30 + [50.0, 70.0] * 15, 0.0),  # median of 0, 0 and 10
    ],
)
def test_steadiness_is_the_median_per_second_standard_deviation_in_points(scores: list[float], expected: float) -> None:
    step = tally_of([frame(i * FRAME_MS, s) for i, s in enumerate(scores)]).steps[0]
    assert step.steadiness_pts == pytest.approx(expected, abs=0.01)


def test_seconds_with_few_scored_frames_do_not_count_toward_steadiness() -> None:
    # 4 scored frames a second (a slow camera): no second qualifies.
    step = tally_of([frame(i * 250.0, 80.0 if i % 2 else 90.0) for i in range(40)]).steps[0]
    assert step.steadiness_pts is None


def test_timeline_has_one_point_per_second_with_holds_marked() -> None:
    # 40 s: 20 s at 60, then 20 s at 90 with a hold on from 25 s; 5 s in the middle without a face.
    results = []
    for i in range(40 * 30):
        t = i * FRAME_MS
        if 10_000 <= t < 15_000:
            results.append(frame(t, face=False))
        else:
            results.append(frame(t, 60.0 if t < 20_000 else 90.0, held=t >= 25_000))
    step = tally_of(results).steps[0]
    assert step.timeline_step_s == 1.0
    points = {p.t_s: p for p in step.timeline}
    assert len(points) == 40
    assert points[0.0].score == pytest.approx(60.0) and points[12.0].score is None
    assert points[30.0].score == pytest.approx(90.0)
    assert [p.t_s for p in step.timeline if p.held] == [float(s) for s in range(25, 40)]


def test_a_short_session_gets_a_finer_timeline() -> None:
    step = tally_of([frame(i * FRAME_MS, 60.0 + i) for i in range(30)]).steps[0]
    assert step.timeline_step_s == pytest.approx(0.1)
    assert len(step.timeline) == 10
    assert step.timeline[0].score == pytest.approx(61.0)  # frames 0-2 at 60, 61, 62


# -- cues and best frames ---------------------------------------------------------------------
def test_cue_history_and_how_long_each_cue_was_shown() -> None:
    cues = ["Bigger smile"] * 30 + [""] * 15 + ["Chin down"] * 60 + ["Bigger smile"] * 15
    step = tally_of([frame(i * FRAME_MS, cue=c) for i, c in enumerate(cues)]).steps[0]
    assert [text for _, text in step.cues] == ["Bigger smile", "", "Chin down", "Bigger smile"]
    assert [t for t, _ in step.cues] == pytest.approx([0.0, 1.0, 1.5, 3.5], abs=1e-3)
    seconds = dict(step.cue_seconds)
    assert list(seconds) == ["Chin down", "Bigger smile"]
    assert seconds["Chin down"] == pytest.approx(2.0, abs=0.01)
    assert seconds["Bigger smile"] == pytest.approx(1.5, abs=0.05)


def test_the_best_frame_is_kept_downscaled_and_copied() -> None:
    big = np.zeros((2160, 3840, 3), np.uint8)
    images = []
    for i in range(5):
        img = big.copy()
        img[:, :, 1] = 40 * i  # each frame its own green
        images.append(img)
    scores = [50.0, 70.0, 90.0, 80.0, 60.0]
    tally = SessionTally()
    buffer = np.zeros_like(big)
    for i, s in enumerate(scores):
        buffer[:] = images[i]  # the caller reuses its buffer
        tally.update(frame(i * FRAME_MS, s), target=LOOK, image=buffer)
    step = tally.record(source="test").steps[0]
    decoded = cv2.imdecode(np.frombuffer(step.best_jpeg, np.uint8), cv2.IMREAD_COLOR)
    assert decoded.shape == (540, KEEP_MAX_SIDE, 3)
    assert abs(float(decoded[:, :, 1].mean()) - 80.0) < 3.0, "the frame scored 90, not a later one"
    assert step.best_score == 90.0 and step.best_t_s == pytest.approx(2 * FRAME_MS / 1000.0, abs=1e-3)
    assert tally.record(source="test", pictures=False).steps[0].best_jpeg is None


def test_at_an_equal_score_the_best_frame_is_one_in_a_hold() -> None:
    scores = [(70.0, False), (95.0, False), (95.0, False), (95.0, True), (95.0, True), (90.0, True)]
    images = [np.full((36, 64, 3), 40 * i, np.uint8) for i in range(len(scores))]
    tally = SessionTally()
    for i, (s, held) in enumerate(scores):
        tally.update(frame(i * FRAME_MS, s, held=held, just=held and not scores[i - 1][1]), target=LOOK, image=images[i])
    step = tally.record(source="test").steps[0]
    assert step.best_score == 95.0 and step.best_t_s == pytest.approx(3 * FRAME_MS / 1000.0, abs=1e-3)
    picture = cv2.imdecode(np.frombuffer(step.best_jpeg, np.uint8), cv2.IMREAD_COLOR)
    assert abs(float(picture.mean()) - 120.0) < 3.0, "the first held frame at the best score"


def test_in_look_bands_describe_the_frames_at_or_above_the_threshold() -> None:
    results = [frame(i * FRAME_MS, 90.0, smile=0.40 + 0.001 * (i % 11)) for i in range(300)]
    results += [frame((300 + i) * FRAME_MS, 50.0, smile=0.95) for i in range(300)]  # out of the look
    step = tally_of(results).steps[0]
    band = step.band("smile")
    assert 0.40 <= band.p10 < band.p50 < band.p90 <= 0.41
    assert step.in_look_s == pytest.approx(10.0, abs=0.1)


def test_record_and_restart_starts_a_new_session() -> None:
    tally = SessionTally()
    for i in range(30):
        tally.update(frame(i * FRAME_MS, 70.0), target=LOOK)
    first = tally.record(source="cam", restart=True)
    assert first.frames == 30 and tally.frames == 0
    for i in range(30, 45):
        tally.update(frame(i * FRAME_MS, 90.0), target=LOOK)
    second = tally.record(source="cam")
    assert second.frames == 15 and second.steps[0].best_score == 90.0
    assert second.duration_s == pytest.approx(0.5, abs=0.01)


def test_an_empty_tally_records_an_empty_session() -> None:
    rec = SessionTally().record(source="cam")
    assert rec.frames == 0 and rec.steps == () and rec.best_score is None and rec.blink_rate_per_min is None


# -- a real clip --------------------------------------------------------------------------------
@pytest.mark.media
def test_a_real_clip_tallies_what_its_labels_say(shared_media, media_labels) -> None:  # noqa: ANN001
    """single_face.mp4: neutral, then a broad smile held to the end, one blink (frames 26-28)."""
    from posecoach.runs import CoachSettings, run_source
    from posecoach.sources import open_source
    from posecoach.targets import load_library

    target = load_library()["friendly_profile"]
    source = open_source(shared_media / "single_face.mp4")
    try:
        run = run_source(source, target, CoachSettings(target.name))
    finally:
        source.close()
    rec = run.session.tally.record(source="single_face.mp4")
    labels = media_labels["single_face.mp4"]
    labelled_blinks = [s for s in labels["segments"] if s["eyes"] == "closed"]
    assert len(labelled_blinks) == 1
    (step,) = rec.steps
    assert rec.frames == labels["n_frames"] == 72
    assert rec.duration_s == pytest.approx(72 / 30.0, abs=0.01)
    assert step.blinks == len(labelled_blinks)
    assert step.blink_rate_per_min == pytest.approx(60.0 / 2.37, rel=0.05)
    assert step.holds == 1 == run.summary.holds
    assert step.time_to_first_hold_s == pytest.approx(run.summary.hold_times[0] / 1000.0, abs=0.05)
    assert step.best_score == pytest.approx(run.summary.best_score)
    smile = step.band("smile")
    assert smile is not None and smile.p10 > 0.6, "in the look he smiles broadly"
    assert step.cue_seconds[0][0] == "Lovely, hold that"
    image = cv2.imdecode(np.frombuffer(step.best_jpeg, np.uint8), cv2.IMREAD_COLOR)
    assert image.shape == (360, 640, 3)
