"""The drills' pure core on synthetic result streams: the seeded shot scheduler, keeper
judgement (a blink at the click, eyes off the lens, a moving head, a fading smile), blink
recovery, lens recall scoring and blink-on-cue timing. No model involved."""

from __future__ import annotations

import wave
import io

import pytest

from posecoach.drills import (
    BlinkOnCue,
    BlinkPhase,
    BlinkSettings,
    DrillError,
    Every,
    LensRecall,
    Miss,
    RecallPhase,
    RecallSettings,
    ShotSchedule,
    ShutterDrill,
    judge,
    parse_every,
)
from posecoach.drills.flows import lens_screen
from posecoach.drills.schedule import check_seed
from posecoach.drills.sounds import chime_wav, data_uri, shutter_wav
from posecoach.drills.words import KIND_GOOD, shot_word
from posecoach.results import Cue, EyeState, FaceFrame, FrameResult, MetricScore, TargetScore
from tests.factories import FRAME_MS, metrics

THRESHOLD = 80.0


def frame(i: int, *, score: float | None = 95.0, eyes: EyeState = EyeState.OPEN, gaze: float = 0.95,
          yaw: float = 0.0, eye_open: float = 0.6, smile: float = 0.8, face: bool = True) -> FrameResult:  # fmt: skip
    """One synthetic coached frame at 30 fps (``face=False``: nobody in the picture)."""
    t = i * FRAME_MS
    if not face:
        return FrameResult(i, t, FaceFrame.empty(), None, None, None, Cue.none())
    m = metrics(eyes=eyes, gaze_on_lens=gaze, yaw=yaw, eye_open_left=eye_open, eye_open_right=eye_open, smile=smile)
    scored = None
    if score is not None:
        short = max(0.0, 1.0 - score / 100.0)
        scored = TargetScore("t", score, (MetricScore("smile", smile, 1.0 - short, 1 if short else 0, 1.0),
                                          MetricScore("yaw", yaw, 1.0, 0, 1.0)))  # fmt: skip
    return FrameResult(i, t, FaceFrame.empty(), m, m, scored, Cue.none())



# -- the scheduler ------------------------------------------------------------------------------
def test_same_seed_same_shots_and_intervals_within_bounds() -> None:
    every = Every(2.0, 4.0)
    a = ShotSchedule(every, seed=7).times_until(120_000)
    assert a == ShotSchedule(every, seed=7).times_until(120_000)
    assert a != ShotSchedule(every, seed=8).times_until(120_000)
    gaps = [b - a_ for a_, b in zip([0.0] + a, a)]
    assert len(gaps) >= 30 and all(2000.0 <= g <= 4000.0 for g in gaps)
    assert max(gaps) - min(gaps) > 1000.0  # random, not a metronome


@pytest.mark.parametrize(
    ("text", "expected"),
    [("2:4", (2.0, 4.0)), (" 0.5:1 ", (0.5, 1.0)), ("3", (3.0, 3.0))],
)
def test_every_parses(text: str, expected: tuple[float, float]) -> None:
    e = parse_every(text)
    assert (e.lo_s, e.hi_s) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("fast", "expected --every LO:HI in seconds (e.g. 2:4), got 'fast'"),
        ("4:2", "shot interval must be LO:HI seconds with 0.2 <= LO <= HI <= 60, got 4:2"),
        ("0:1", "shot interval must be LO:HI seconds with 0.2 <= LO <= HI <= 60, got 0:1"),
        ("nan:3", "shot interval must be finite seconds, got nan:3"),
        ("1:100", "shot interval must be LO:HI seconds with 0.2 <= LO <= HI <= 60, got 1:100"),
    ],
)
def test_bad_every_is_one_clear_line(text: str, message: str) -> None:
    with pytest.raises(DrillError) as e:
        parse_every(text)
    assert str(e.value) == message


def test_bad_seed() -> None:
    with pytest.raises(DrillError, match="expected a seed from 0 to"):
        check_seed(-1)


# -- keeper judgement ---------------------------------------------------------------------------
def test_judge_names_every_reason() -> None:
    assert judge(frame(0), THRESHOLD, 0.5) == ()
    assert judge(frame(0, eyes=EyeState.CLOSED, gaze=0.0), THRESHOLD, 0.5) == (Miss.BLINK,)
    assert judge(frame(0, gaze=0.4), THRESHOLD, 0.5) == (Miss.OFF_LENS,)
    assert judge(frame(0, gaze=0.6), THRESHOLD, 0.5) == ()  # the band's edge is on the lens
    assert judge(frame(0, eyes=EyeState.LOOKING_DOWN), THRESHOLD, 0.5) == (Miss.EYES_DOWN,)
    assert judge(frame(0), THRESHOLD, 6.0) == (Miss.MOVING,)
    assert judge(frame(0, score=60.0), THRESHOLD, 0.5) == (Miss.OFF_LOOK,)
    assert judge(frame(0, face=False), THRESHOLD, None) == (Miss.NO_FACE,)


def _drill(results: list[FrameResult], times_ms: list[float]) -> ShutterDrill:
    drill = ShutterDrill(THRESHOLD, ShotSchedule.at(times_ms))
    for r in results:
        drill.update(r)
    return drill


def test_a_blink_at_the_click_is_a_lost_frame_and_recovery_is_timed() -> None:
    # On the look 1 s, blink 3 frames, eyes back open but off the lens 3 frames, back on the lens.
    results = [frame(i) for i in range(30)]
    results += [frame(30 + i, eyes=EyeState.CLOSED, gaze=0.0) for i in range(3)]
    results += [frame(33 + i, gaze=0.3) for i in range(3)]
    results += [frame(36 + i) for i in range(30)]
    drill = _drill(results, [500.0, 1001.0, 1110.0, 1500.0])
    shots = drill.state.shots
    assert [s.frame for s in shots] == [15, 31, 34, 45]
    assert [s.keeper for s in shots] == [True, False, False, True]
    assert shots[1].why == "blink at the click" and shots[1].eyes == "closed"
    assert shots[2].why == "eyes off the lens"
    summary = drill.summary()
    assert summary.keepers == 2 and summary.blinks == 1
    assert summary.recovery_s == pytest.approx(6 * FRAME_MS / 1000.0, abs=1e-6)  # shut at frame 30, ready at 36
    assert summary.habit.startswith("blinks cost you 1 of 4 shots") or summary.habit.startswith("look into the lens")


def test_eyes_off_the_lens_is_the_habit_when_it_costs_most() -> None:
    results = [frame(i, gaze=0.3 if i >= 20 else 0.95) for i in range(120)]
    drill = _drill(results, [300.0, 1000.0, 2000.0, 3000.0])
    summary = drill.summary()
    assert [s.keeper for s in summary.shots] == [True, False, False, False]
    assert summary.habit == "look into the lens, not at the screen: 3 of 4 shots caught your eyes off the lens"


def test_a_moving_head_is_not_steady() -> None:
    results = [frame(i, yaw=0.0 if i < 30 else (i - 30) * 2.0) for i in range(40)]  # 2 degrees a frame
    drill = _drill(results, [500.0, 1200.0])
    assert [s.why for s in drill.state.shots] == ["", "head moving"]
    assert drill.state.shots[1].head_moved_deg == pytest.approx(8.0)  # 150 ms = 4 frames back + this one


def test_a_fading_smile_is_measured_and_named() -> None:
    # Each refresh: the smile on the look for 3 s, then it fades (score falls) for 1 s; twice.
    results = [frame(i, score=95.0, smile=0.8) if i % 120 < 90 else frame(i, score=50.0, smile=0.2) for i in range(240)]
    drill = _drill(results, [1000.0, 3500.0, 5000.0, 7500.0])
    summary = drill.summary()
    assert summary.fades == 2 and summary.fade_what == "smile"
    assert summary.fade_s == pytest.approx(3.0, abs=0.05)
    assert summary.fade_text() == "your smile fades after 3.0 s: refresh it between shots"
    assert summary.habit == summary.fade_text()  # off the look is what cost the shots
    assert [s.keeper for s in summary.shots] == [True, False, True, False]


def test_same_seed_same_shots_on_the_same_stream() -> None:
    results = [frame(i) for i in range(600)]  # 20 s
    runs = []
    for _ in range(2):
        drill = ShutterDrill(THRESHOLD, ShotSchedule(Every(2, 4), seed=3))
        for r in results:
            drill.update(r)
        runs.append([(s.frame, s.t_ms) for s in drill.state.shots])
    assert runs[0] == runs[1] and 5 <= len(runs[0]) <= 10


def test_a_gap_in_the_frames_past_several_clicks_takes_one_shot() -> None:
    results = [frame(0), frame(300)]  # 10 s without frames
    drill = _drill(results, [1000.0, 2000.0, 3000.0])
    assert len(drill.state.shots) == 1 and drill.state.next_in_ms == float("inf")


# -- lens recall --------------------------------------------------------------------------------
def test_recall_scores_against_the_mirrored_attempt_and_consistency() -> None:
    settings = RecallSettings(rounds=3, hold_s=1.0, recall_s=2.0, settle_s=0.5)
    drill = LensRecall(THRESHOLD, settings)
    i = 0
    recall_scores = [90.0, 70.0, 88.0]
    phases = []
    for rnd in range(3):
        for _ in range(45):  # the look in the mirror: held after 1 s (31 frames)
            s = drill.update(frame(i, score=92.0))
            i += 1
            if s.phase is RecallPhase.RECALL:
                break
        assert s.phase is RecallPhase.RECALL and s.changed and s.prompt == "Eyes on the lens"
        phases.append(s.phase)
        while s.phase is RecallPhase.RECALL:  # 2 s from memory; the eyes leave the lens half the time in round 2
            gaze = 0.3 if (rnd == 1 and i % 2) else 0.9
            s = drill.update(frame(i, score=recall_scores[rnd], gaze=gaze))
            i += 1
    assert s.phase is RecallPhase.DONE
    result = drill.result()
    assert [r.reached for r in result.rounds] == [True] * 3
    assert [round(r.mirror_score) for r in result.rounds] == [92] * 3
    assert [round(r.recall_score) for r in result.rounds] == [90, 70, 88]
    assert result.rounds[0].on_lens == 1.0 and 0.4 <= result.rounds[1].on_lens <= 0.6
    assert result.spread == pytest.approx(20.0) and not result.consistent
    assert result.lines()[-1] == "not consistent yet: your recalls range from 70 to 90"


def test_recall_without_a_hold_moves_on_and_says_so() -> None:
    drill = LensRecall(THRESHOLD, RecallSettings(rounds=3, mirror_max_s=2.0, recall_s=1.0))
    s = None
    for i in range(400):
        s = drill.update(frame(i, score=60.0 if i < 70 else 85.0, face=i != 10))
        if s.phase is RecallPhase.DONE:
            break
    assert s is not None and s.phase is RecallPhase.DONE
    first = drill.result().rounds[0]
    assert not first.reached and first.mirror_score == 60.0
    assert "(not held)" in drill.result().lines()[0]


def test_recall_rounds_are_three_to_five() -> None:
    with pytest.raises(DrillError, match="3 to 5 rounds"):
        RecallSettings(rounds=2)


# -- blink on cue -------------------------------------------------------------------------------
def _blink_round(drill: BlinkOnCue, start: int, *, open_frames: int, after_score: float) -> int:
    """Ready 2 s, eyes shut 1.2 s, opening over ``open_frames`` frames, then the look at ``after_score``."""
    i = start
    for _ in range(62):
        drill.update(frame(i, eye_open=0.6, score=92.0))
        i += 1
    assert drill.state.phase is BlinkPhase.CLOSE and drill.state.prompt == "Close your eyes\u2026"
    while drill.state.phase is BlinkPhase.CLOSE:
        drill.update(frame(i, eyes=EyeState.CLOSED, eye_open=0.05, gaze=0.0, score=70.0))
        i += 1
    assert drill.state.phase is BlinkPhase.OPEN and drill.state.changed and drill.state.prompt == "\u2026and open"
    for k in range(open_frames):  # half open: not yet fully open
        drill.update(frame(i, eye_open=0.3 + 0.2 * k / open_frames, score=80.0))
        i += 1
    while drill.state.phase is not BlinkPhase.READY and drill.state.phase is not BlinkPhase.DONE:
        drill.update(frame(i, eye_open=0.6, score=after_score))
        i += 1
    return i


def test_blink_on_cue_times_the_opening_and_checks_the_look_survives() -> None:
    drill = BlinkOnCue(THRESHOLD, BlinkSettings(rounds=2))
    i = _blink_round(drill, 0, open_frames=9, after_score=90.0)
    _blink_round(drill, i, open_frames=3, after_score=40.0)
    rounds = drill.state.done
    assert drill.state.phase is BlinkPhase.DONE and len(rounds) == 2
    # the cue comes on the last shut frame; fully open on the frame after the half-open ones
    assert rounds[0].open_ms == pytest.approx(10 * FRAME_MS) and rounds[1].open_ms == pytest.approx(4 * FRAME_MS)
    assert rounds[0].survived and not rounds[1].survived
    assert rounds[0].before == pytest.approx(92.0)
    assert drill.lines()[-1] == "eyes fully open after 0.23 s (median); the look survived 1 of 2"


def test_eyes_that_never_close_are_said() -> None:
    drill = BlinkOnCue(THRESHOLD, BlinkSettings(rounds=1, close_timeout_s=1.0))
    for i in range(200):
        drill.update(frame(i))
    (r,) = drill.state.done
    assert not r.closed and r.open_ms is None and not r.survived
    assert drill.lines() == ["round 1: the eyes did not close on the cue"]


# -- sounds, screen, words ----------------------------------------------------------------------
def test_sounds_are_small_valid_wavs_made_here() -> None:
    for wav, seconds in ((shutter_wav(), 0.16), (chime_wav(), 0.45)):
        with wave.open(io.BytesIO(wav)) as w:
            assert w.getnchannels() == 1 and w.getsampwidth() == 2
            assert w.getnframes() / w.getframerate() == pytest.approx(seconds, abs=0.01)
        assert len(wav) < 25_000 and data_uri(wav).startswith("data:audio/wav;base64,UklGR")
    assert shutter_wav() == shutter_wav()  # deterministic


def test_lens_screen_shows_no_face_only_a_mark_near_the_camera() -> None:
    screen = lens_screen(640, 360)
    assert screen.shape == (360, 640, 3)
    bright = (screen.max(axis=2) > 150).nonzero()
    assert bright[0].max() < 360 // 4  # everything drawn sits at the top, near the lens
    assert abs(bright[1].mean() - 320) < 40


def test_kind_words_never_give_a_reason() -> None:
    assert shot_word(False, "blink at the click", kind=True) != "blink at the click"
    assert shot_word(True, "", kind=True) == KIND_GOOD
    assert shot_word(False, "blink at the click", kind=False) == "blink at the click"
