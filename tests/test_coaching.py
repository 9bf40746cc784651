"""The coach (one cue, mirror phrasing, hysteresis, debounce) and the hold timer."""

from __future__ import annotations

import pytest

from posecoach.coaching import HOLD_TEXT, NO_FACE_TEXT, PHRASES, Coach, CoachMode, HoldTracker, Size, phrase
from posecoach.results import TARGET_METRICS, Cue, HoldState, Metrics, MetricScore, TargetScore
from posecoach.scoring import score_metrics
from posecoach.targets import CueOverride, MetricRange, Target, find_target

from factories import metrics

FRAME_MS = 1000.0 / 30.0
def target(*ranges: MetricRange, cues: tuple[CueOverride, ...] = (), threshold: float = 100.0) -> Target:
    """A target; threshold 100 by default so "hold" only comes when every metric is in range."""
    return Target("t", "T", "", tuple(ranges), threshold=threshold, cues=cues)


def first_cue(t: Target, m: Metrics) -> Cue:
    return Coach(t).update(score_metrics(m, t), 0.0)


# -- phrasing: direction table ----------------------------------------------------------------
# Each row: the target range, the measured value, and what a person looking at a mirror must hear.
# Signs are those of the RAW camera image: yaw > 0 = nose toward the raw image's right = the
# subject's own LEFT; roll > 0 = the subject's left eye higher = head tipped to their RIGHT shoulder.
PHRASING = [
    ("yaw", (10, 20, 6), 0.0, "Turn your head to your left", +1),
    ("yaw", (10, 20, 6), 8.0, "Turn your head a little to your left", +1),
    ("yaw", (-20, -10, 6), 0.0, "Turn your head to your right", -1),
    ("yaw", (-5, 5, 6), 8.0, "Turn your head a little to your right", -1),
    ("pitch", (-8, -2, 5), 6.0, "Bring your chin down", -1),
    ("pitch", (-8, -2, 5), 0.0, "Lower your chin slightly", -1),
    ("pitch", (-2, 5, 5), -10.0, "Lift your chin", +1),
    ("pitch", (-2, 5, 5), -3.0, "Lift your chin slightly", +1),
    ("roll", (3, 10, 5), -5.0, "Tilt your head toward your right shoulder", +1),
    ("roll", (-10, -3, 5), 5.0, "Tilt your head toward your left shoulder", -1),
    ("roll", (-10, -3, 5), -1.0, "Tilt your head a little toward your left shoulder", -1),
    ("roll", (-4, 4, 5), 12.0, "Level your head", -1),
    ("roll", (-4, 4, 5), -6.0, "Level your head a touch", +1),
    ("smile", (0.2, 0.45, 0.15), 0.9, "Soften the smile", -1),
    ("smile", (0.2, 0.45, 0.15), 0.5, "Soften the smile a little", -1),
    ("smile", (0.6, 1.0, 0.2), 0.0, "Smile more", +1),
    ("smile", (0.6, 1.0, 0.2), 0.55, "Smile a little more", +1),
    ("mouth_open", (0.0, 0.08, 0.08), 0.4, "Close your lips", -1),
    ("squinch", (0.3, 0.6, 0.15), 0.0, "Squinch: lift your lower eyelids", +1),
    ("gaze_on_lens", (0.8, 1.0, 0.2), 0.2, "Look into the lens", +1),
    ("eye_open", (0.5, 1.0, 0.2), 0.1, "Open your eyes", +1),
    # eye_open_left is the eye on the raw image's left: the subject's RIGHT eye.
    ("eye_open_left", (0.5, 1.0, 0.2), 0.1, "Open your right eye", +1),
    ("eye_open_right", (0.5, 1.0, 0.2), 0.1, "Open your left eye", +1),
    # face_x grows toward the raw image's right: the subject's own left.
    ("face_x", (0.4, 0.6, 0.1), 0.2, "Move to your left", +1),
    ("face_x", (0.4, 0.6, 0.1), 0.63, "Move a little to your right", -1),
    ("face_height", (0.3, 0.5, 0.1), 0.1, "Come closer to the camera", +1),
]


@pytest.mark.parametrize(("metric", "rng", "value", "text", "direction"), PHRASING, ids=lambda v: str(v))
def test_cue_phrasing_direction_table(
    metric: str, rng: tuple[float, float, float], value: float, text: str, direction: int
) -> None:
    t = target(MetricRange(metric, *rng))
    m = metrics(eye_open_left=value, eye_open_right=value) if metric == "eye_open" else metrics(**{metric: value})
    assert first_cue(t, m) == Cue(text, metric, direction)


def test_every_target_metric_has_both_directions() -> None:
    assert {key for key in PHRASES} == {(m, d) for m in TARGET_METRICS for d in (+1, -1)}
    assert all(p.small != p.large for p in PHRASES.values())


def test_target_phrasing_overrides_the_default() -> None:
    corporate = find_target("corporate_headshot")
    m = metrics(smile=0.9, mouth_open=0.02, yaw=15.0, pitch=-5.0, squinch=0.3, gaze_on_lens=0.9)
    assert first_cue(corporate, m) == Cue("Soften to a closed-mouth smile", "smile", -1)
    t = target(MetricRange("smile", 0.2, 0.4, 0.1), cues=(CueOverride("smile", up="Bigger"),))
    assert phrase("smile", +1, Size.LARGE, t) == "Bigger"
    assert phrase("smile", -1, Size.LARGE, t) == "Soften the smile"  # no override for this direction


def test_magnitude_words_do_not_flicker_near_the_boundary() -> None:
    t = target(MetricRange("yaw", 10, 20, 6))
    coach = Coach(t)
    texts = []
    for i, yaw in enumerate([7.0, 6.9, 7.1, 6.9, 7.1, 6.9, 5.0, 5.5, 7.0, 7.5, 8.5]):  # 7 = score 0.5
        texts.append(coach.update(score_metrics(metrics(yaw=yaw), t), i * FRAME_MS).text)
    small, large = "Turn your head a little to your left", "Turn your head to your left"
    assert texts[:6] == [small] * 6  # 0.5 +- a bit: stays "a little"
    assert texts[6:9] == [large] * 3  # clearly far (score 0.25): louder, and stays so at 0.5
    assert texts[-1] == small  # clearly close again


# -- choosing the cue: largest shortfall, hysteresis, debounce ---------------------------------------
def scored(total: float, **shortfalls: tuple[float, int]) -> TargetScore:
    """A TargetScore from ``metric=(score, direction)`` pairs, all with weight 1."""
    return TargetScore("t", total, tuple(MetricScore(n, 0.0, s, d, 1.0) for n, (s, d) in shortfalls.items()))


TWO = target(MetricRange("smile", 0.2, 0.4, 0.1), MetricRange("pitch", -8, -2, 5), threshold=80.0)


def test_cue_is_the_largest_weighted_shortfall() -> None:
    t = target(MetricRange("smile", 0.2, 0.4, 0.1, weight=1.0), MetricRange("pitch", -8, -2, 5, weight=3.0))
    # smile is further off (score 0) but pitch weighs 3x: 3 * (1 - 0.5) > 1 * (1 - 0).
    assert first_cue(t, metrics(smile=0.6, pitch=0.5)).metric == "pitch"
    assert first_cue(t, metrics(smile=0.6, pitch=-3.0)).metric == "smile"


def test_near_equal_shortfalls_do_not_flicker() -> None:
    coach = Coach(TWO)
    seen = set()
    for i in range(150):  # 5 s at 30 fps, the worst metric alternating every frame
        a, b = (0.40, 0.45) if i % 2 else (0.45, 0.40)
        seen.add(coach.update(scored(40, smile=(a, -1), pitch=(b, -1)), i * FRAME_MS).metric)
    assert seen == {"pitch"}  # the first worst stays: the other never wins by the margin
    for i in range(150, 300):  # smile now steadily a little worse, but by less than the margin
        assert coach.update(scored(40, smile=(0.35, -1), pitch=(0.42, -1)), i * FRAME_MS).metric == "pitch"


def test_a_clearly_dominant_metric_takes_over_after_the_debounce() -> None:
    coach = Coach(TWO)
    assert coach.update(scored(40, smile=(0.4, -1), pitch=(0.5, -1)), 0).metric == "smile"
    switched_at = None
    for i in range(1, 40):
        t = i * FRAME_MS
        cue = coach.update(scored(30, smile=(0.4, -1), pitch=(0.0, -1)), t)  # pitch 0.4 worse: beats the margin
        if cue.metric == "pitch" and switched_at is None:
            switched_at = t
    assert switched_at is not None
    assert 500 <= switched_at - FRAME_MS <= 500 + FRAME_MS  # persisted ~0.5 s, then switched at once


def test_a_winner_that_blinks_out_restarts_the_debounce() -> None:
    coach = Coach(TWO)
    coach.update(scored(40, smile=(0.4, -1), pitch=(0.5, -1)), 0)
    for i in range(1, 60):
        bad = i % 10 != 0  # pitch dominates but falls back every 10th frame (333 ms < 500 ms)
        s = scored(30, smile=(0.4, -1), pitch=(0.0, -1) if bad else (0.5, -1))
        assert coach.update(s, i * FRAME_MS).metric == "smile"


def test_a_done_cue_moves_on_after_the_debounce_even_to_a_small_shortfall() -> None:
    coach = Coach(TWO)
    coach.update(scored(40, smile=(0.0, -1), pitch=(0.9, +1)), 0)
    cues = [coach.update(scored(70, smile=(1.0, 0), pitch=(0.9, +1)), i * FRAME_MS).metric for i in range(1, 25)]
    assert cues[0] == "smile" and cues[-1] == "pitch"  # pitch only 0.1 short: below the margin, still next


def test_overshoot_flips_direction_after_the_debounce() -> None:
    t = target(MetricRange("yaw", 10, 20, 6))
    coach = Coach(t)
    assert coach.update(score_metrics(metrics(yaw=0.0), t), 0).text == "Turn your head to your left"
    texts = [coach.update(score_metrics(metrics(yaw=30.0), t), i * FRAME_MS).text for i in range(1, 20)]
    assert texts[0] == "Turn your head to your left" and texts[-1] == "Turn your head to your right"


def test_hold_it_there_with_a_score_band() -> None:
    coach = Coach(TWO)  # threshold 80, band 5
    assert coach.update(scored(60, smile=(0.2, -1), pitch=(1.0, 0)), 0).metric == "smile"
    assert coach.update(scored(80, smile=(0.6, -1), pitch=(1.0, 0)), FRAME_MS).text == HOLD_TEXT  # at once
    assert coach.mode is CoachMode.HOLD
    for i in range(2, 40):  # a dip into the band never leaves "hold"
        assert coach.update(scored(76, smile=(0.52, -1), pitch=(1.0, 0)), i * FRAME_MS).text == HOLD_TEXT
    texts = [coach.update(scored(70, smile=(0.4, -1), pitch=(1.0, 0)), (40 + i) * FRAME_MS).text for i in range(20)]
    assert texts[:15] == [HOLD_TEXT] * 15 and texts[-1] == "Soften the smile"  # after ~0.5 s below the band


def test_a_clearly_lost_look_leaves_hold_at_once() -> None:
    coach = Coach(TWO)  # threshold 80, drop band 15
    assert coach.update(scored(85, smile=(0.9, -1), pitch=(1.0, 0)), 0).text == HOLD_TEXT
    lost = [coach.update(scored(50, smile=(0.1, -1), pitch=(1.0, 0)), i * FRAME_MS).text for i in range(1, 15)]
    # 300 ms (a blink's length) then out, well before the 500 ms debounce.
    assert lost[:9] == [HOLD_TEXT] * 9 and lost[10] == "Soften the smile"


def test_a_blink_does_not_change_the_cue() -> None:
    coach = Coach(TWO)
    texts = []
    for i in range(30):
        blink = 10 <= i < 14  # ~130 ms
        texts.append(coach.update(scored(40 if blink else 85, smile=(0.1 if blink else 1.0, -1), pitch=(1.0, 0)), i * FRAME_MS).text)
    assert set(texts) == {HOLD_TEXT}


def test_custom_hold_cue() -> None:
    t = Target("t", "T", "", (MetricRange("smile", 0.2, 0.4, 0.1),), hold_cue="Stay right there")
    assert first_cue(t, metrics(smile=0.3)) == Cue("Stay right there")


def test_no_face_after_a_grace_period_then_back() -> None:
    coach = Coach(TWO)
    assert coach.update(None, 0) == Cue.none()  # nothing yet, and no nagging in the first frames
    assert coach.update(None, 499) == Cue.none()
    assert coach.update(None, 500) == Cue(NO_FACE_TEXT)
    cue = coach.update(scored(40, smile=(0.2, -1), pitch=(1.0, 0)), 533)
    assert cue.metric == "smile"  # a returning face gets its cue at once
    assert coach.update(None, 566).metric == "smile"  # a dropout shorter than the grace keeps the cue
    assert coach.update(scored(40, smile=(0.2, -1), pitch=(1.0, 0)), 600).metric == "smile"
    coach.update(None, 633)
    assert coach.update(None, 1133).text == NO_FACE_TEXT
    coach.reset()
    assert coach.mode is CoachMode.IDLE and coach.update(None, 1200) == Cue.none()


# -- the hold timer ---------------------------------------------------------------------------
def _frames(tracker: HoldTracker, scores: list[float | None]) -> list[HoldState]:
    """Feed one score per frame at 30 fps, with a clock that adds 1000/30 ms per frame (as a
    player does): its float rounding puts frame 45 at 1499.9999999999993 ms, not 1500."""
    out, t_ms = [], 0.0
    for s in scores:
        out.append(tracker.update(s, t_ms))
        t_ms += FRAME_MS
    return out


def test_hold_completes_after_hold_s_at_30_fps() -> None:
    h = HoldTracker(threshold=80, hold_s=1.5)
    states = _frames(h, [90.0] * 60)
    done = [i for i, s in enumerate(states) if s.just_completed]
    assert done == [45]  # 45 frames after the first one = 1.5 s
    assert states[0] == HoldState(0.0, False, 0, False)
    assert states[15].progress == pytest.approx(1 / 3)
    assert states[44].progress < 1.0 and not states[44].held
    assert states[45] == HoldState(1.0, True, 1, True)
    assert all(s == HoldState(1.0, True, 1, False) for s in states[46:])


def test_dips_and_face_loss_reset_progress_and_runs_count() -> None:
    h = HoldTracker(threshold=80, hold_s=1.0)
    states = _frames(h, [85.0] * 20 + [79.9] + [80.0] * 31 + [None] + [95.0] * 31)
    assert states[19].progress == pytest.approx(19 / 30)
    assert states[20] == HoldState(0.0, False, 0, False)  # a dip below the threshold restarts
    assert states[51].just_completed and states[51].holds == 1  # exactly at the threshold counts
    assert states[52] == HoldState(0.0, False, 1, False)  # no face: progress gone, count kept
    assert states[83].just_completed and states[83].holds == 2
    assert sum(s.just_completed for s in states) == 2
    h.reset()
    assert h.holds == 0 and h.update(90, 0) == HoldState(0.0, False, 0, False)


def test_a_blink_length_dip_keeps_the_hold_when_allowed() -> None:
    strict, lenient = HoldTracker(80, 1.0), HoldTracker(80, 1.0, dip_ms=250)
    scores = [90.0] * 15 + [60.0] * 4 + [90.0] * 30  # a 4-frame (133 ms) blink half-way
    s = _frames(strict, scores)
    l = _frames(lenient, scores)  # noqa: E741
    assert s[17].progress == 0.0 and l[17].progress == pytest.approx(15 * FRAME_MS / 1000, abs=1e-6)  # frozen during the dip
    assert [i for i, h in enumerate(l) if h.just_completed] == [30]  # 1 s after the run began
    assert not any(h.just_completed for h in s)  # strict: the run restarted after the blink
    long_dip = _frames(HoldTracker(80, 1.0, dip_ms=250), [90.0] * 15 + [60.0] * 9 + [90.0] * 10)
    assert long_dip[23].progress == 0.0  # 300 ms below: the run is broken


def test_hold_reset_can_keep_the_count() -> None:
    h = HoldTracker(threshold=50, hold_s=0.0)
    assert h.update(60, 0).just_completed
    h.reset(keep_count=True)
    assert h.update(60, 10) == HoldState(1.0, True, 2, True)
    assert h.update(float("nan"), 20).progress == 0.0
