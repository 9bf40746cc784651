"""Routines: the shipped files, strict loading, the runner on synthetic frames, and a real clip
through a routine whose holds are known (on a file and on the live path)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import cv2
import numpy as np
import pytest

from factories import NEUTRAL
from posecoach.cli import main
from posecoach.results import Cue, FaceFrame, FrameResult, HoldState, TargetScore
from posecoach.routines import (
    DEFAULT_ROUTINES_DIR,
    Routine,
    RoutineError,
    RoutineRunner,
    Step,
    StepOutcome,
    breath_at,
    find_routine,
    load_routine,
    load_routines,
)
from posecoach.routine_runs import run_routine
from posecoach.runs import CoachSettings
from posecoach.sources import open_source
from posecoach.targets import load_library

LIBRARY = load_library()


# -- the shipped routines ------------------------------------------------------------------------
def test_every_shipped_routine_loads_and_names_library_targets() -> None:
    files = sorted(DEFAULT_ROUTINES_DIR.glob("*.toml"))
    routines = load_routines(LIBRARY)  # the library alone: a shipped routine never needs a user target
    assert len(files) == len(routines) >= 3
    for f in files:
        r = load_routine(f, LIBRARY)
        assert r.name == f.stem and r.title and 20 <= len(r.description) <= 200
        assert all(s.target in LIBRARY and s.prompt for s in r.steps)
        assert 60 <= r.duration_s <= 300, "a warm-up of a few minutes"


def test_the_warmup_breathes_and_relaxes_first_then_laughs_then_squinches() -> None:
    steps = load_routines(LIBRARY)["photographers_warmup"].steps
    order = [s.target for s in steps]
    assert 5 <= len(steps) <= 6
    first = steps[0]
    assert first.target == "relaxed_neutral" and first.breathing and first.hold_s is not None
    assert 3 <= first.breathe_in_s <= 6 and first.breathe_out_s > first.breathe_in_s  # a slow, calming pace
    assert order.index("friendly_profile") < order.index("genuine_laugh") < order.index("soft_smile_squinch")
    assert not any(s.breathing for s in steps[1:])


def test_the_other_routines_are_the_promised_ones() -> None:
    routines = load_routines(LIBRARY)
    actor = [s.target for s in routines["actors_range"].steps]
    assert actor[0] == "actor_commercial" and actor[-1] == "actor_theatrical"
    corporate = [s.target for s in routines["corporate_prep"].steps]
    assert corporate[0] == "relaxed_neutral" and "corporate_headshot" in corporate


# -- strict loading ------------------------------------------------------------------------------
GOOD_STEP = 'target = "relaxed_neutral"\ntime_s = 20\n'


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('name = "r"\n[[steps]]\ntarget = "nope"\ntime_s = 5\n',
         "steps[0].target: unknown target 'nope' (expected one of: actor_commercial, "),
        (f'name = "r"\n[[steps]]\n{GOOD_STEP}[[steps]]\ntarget = "genuine_laugh"\ntime_s = -3\n',
         "steps[1].time_s: expected seconds in (0, 600], got -3"),
        ('name = "r"\n[[steps]]\ntarget = "genuine_laugh"\ntime_s = "ten"\n', "steps[0].time_s: expected seconds, got 'ten'"),
        ('name = "r"\n[[steps]]\ntarget = "genuine_laugh"\ntime_s = 900\n', "steps[0].time_s: expected seconds in (0, 600], got 900"),
        ('name = "r"\n[[steps]]\ntarget = "genuine_laugh"\n', "steps[0].time_s: missing (expected seconds for the step)"),
        ('name = "r"\n[[steps]]\ntarget = "genuine_laugh"\ntime_s = 5\nhold_s = 8\n',
         "steps[0].hold_s: expected at most time_s (5), got 8"),
        (f'name = "r"\n[[steps]]\n{GOOD_STEP}breathe_in_s = 4\n',
         "steps[0].breathe_out_s: missing (a breathing pace needs breathe_in_s and breathe_out_s)"),
        (f'name = "r"\n[[steps]]\n{GOOD_STEP}breathe_in_s = 4\nbreathe_out_s = 40\n',
         "steps[0].breathe_out_s: expected seconds in (1, 15], got 40"),
        (f'name = "r"\n[[steps]]\n{GOOD_STEP}time = 3\n',
         "steps[0].time: unknown key (expected one of: target, time_s, hold_s, prompt, breathe_in_s, breathe_out_s)"),
        ('name = "r"\nsteps = []\n', "steps: missing (expected at least one [[steps]] table)"),
        (f'name = "My Routine"\n[[steps]]\n{GOOD_STEP}', "name: expected a slug of lowercase letters, digits, '_' or '-', got 'My Routine'"),
        ('name = "r"\n[[steps\n', "not valid TOML"),
    ],
)  # fmt: skip
def test_a_bad_routine_file_names_the_file_the_field_and_the_reason(text: str, message: str, tmp_path: Path) -> None:
    path = tmp_path / "r.toml"
    path.write_text(text)
    with pytest.raises(RoutineError) as e:
        load_routine(path, LIBRARY)
    assert str(e.value).startswith(f"{path}: {message}"), str(e.value)


def test_unknown_routine_names_the_choices() -> None:
    with pytest.raises(RoutineError, match="unknown routine 'nope': expected a .toml file or one of: actors_range, "):
        find_routine("nope", LIBRARY)


# -- the runner, on synthetic frames ---------------------------------------------------------------
def frame(t_s: float, target: str, score: float | None, *, hold: HoldState = HoldState(), index: int = 0) -> FrameResult:
    ts = TargetScore(target, score, ()) if score is not None else None
    return FrameResult(index, int(t_s * 1000), FaceFrame.empty(), NEUTRAL if score is not None else None, None, ts,
                       Cue.none(), hold)  # fmt: skip


ROUTINE = Routine("r", "R", "", (
    Step("relaxed_neutral", 5.0, 1.0, "Breathe", 4.0, 6.0),
    Step("genuine_laugh", 2.0),
    Step("actor_theatrical", 3.0),
))  # fmt: skip


def test_a_step_ends_on_its_hold_or_when_its_time_runs_out() -> None:
    runner = RoutineRunner(ROUTINE, {"relaxed_neutral": "Relaxed"})
    s = runner.update(frame(10.0, "relaxed_neutral", 60.0))
    assert (s.index, s.step_elapsed_s, s.best_improved, s.breath.phase) == (0, 0.0, True, "in")
    s = runner.update(frame(10.5, "relaxed_neutral", 90.0, hold=HoldState(0.5)))
    assert s.hold_progress == 0.5 and s.progress == pytest.approx(0.5 / 5 / 3) and s.step_left_s == pytest.approx(4.5)
    s = runner.update(frame(11.2, "relaxed_neutral", 92.0, hold=HoldState(1.0, True, 1, True)))
    assert s.advanced and s.last_outcome is StepOutcome.HELD and s.index == 1 and s.step.target == "genuine_laugh"
    assert s.next_step.target == "actor_theatrical"
    # The frame before the page switched the pipeline, scored against the old target: time only.
    s = runner.update(frame(11.3, "relaxed_neutral", 99.0, hold=HoldState(1.0, True, 2, True)))
    assert not s.advanced and s.score is None
    runner.update(frame(12.0, "genuine_laugh", 40.0))
    s = runner.update(frame(13.3, "genuine_laugh", 50.0))
    assert s.advanced and s.last_outcome is StepOutcome.TIMED_OUT and s.index == 2
    runner.update(frame(13.4, "actor_theatrical", None))  # no face: time runs
    result = runner.result()
    assert [st.outcome for st in result.steps] == [StepOutcome.HELD, StepOutcome.TIMED_OUT, StepOutcome.UNFINISHED]
    first, second, third = result.steps
    assert (first.title, first.best_score, first.first_hold_s, first.best_frame) == ("Relaxed", 92.0, pytest.approx(1.2), 2)
    assert (second.best_score, second.first_hold_s, second.best_at_s, second.frames) == (50.0, None, pytest.approx(2.0), 3)
    assert (third.frames, third.scored_frames, third.best_score) == (1, 0, None)
    assert result.held == 1 and not result.completed
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.steps = ()  # type: ignore[misc]


def test_after_the_last_step_the_routine_is_finished_and_stays_so() -> None:
    runner = RoutineRunner(Routine("r", "R", "", (Step("genuine_laugh", 1.0),)))
    runner.update(frame(0.0, "genuine_laugh", 10.0))
    s = runner.update(frame(1.0, "genuine_laugh", 10.0))
    assert s.finished and s.advanced and s.progress == 1.0
    s = runner.update(frame(1.1, "genuine_laugh", 99.0, hold=HoldState(1.0, True, 1, True)))
    assert s.finished and not s.advanced
    assert [st.outcome for st in runner.result().steps] == [StepOutcome.TIMED_OUT] and runner.result().completed


def test_not_reached_steps_and_the_breathing_pace() -> None:
    runner = RoutineRunner(ROUTINE)
    assert [s.outcome for s in runner.result().steps] == [StepOutcome.NOT_REACHED] * 3
    assert breath_at(0.0, 4, 6) == breath_at(10.0, 4, 6)
    b = breath_at(2.0, 4, 6)
    assert (b.phase, b.fraction, b.seconds_left) == ("in", 0.5, 2.0)
    b = breath_at(7.0, 4, 6)
    assert (b.phase, b.fraction, b.seconds_left) == ("out", 0.5, 3.0)


# -- a real clip whose holds are known -------------------------------------------------------------
# single_face.mp4 (labels.json): relaxed for frames 0-17, a broad smile from ~20 on, a blink 26-28.
# relaxed_neutral reads 90-91 on the relaxed frames (threshold 82); genuine_laugh reaches 96-100
# once the smile is on (threshold 82); actor_theatrical, serious and intense, stays at 72 on the
# smile (threshold 85): it can never be held on this clip.
CLIP_ROUTINE = """
name = "clip_check"
title = "Clip check"
[[steps]]
target = "relaxed_neutral"
time_s = 2
hold_s = 0.3
[[steps]]
target = "genuine_laugh"
time_s = 2
hold_s = 0.5
[[steps]]
target = "actor_theatrical"
time_s = 0.5
[[steps]]
target = "passport_neutral"
time_s = 5
"""


@pytest.fixture
def clip_routine(tmp_path: Path) -> Path:
    path = tmp_path / "clip_check.toml"
    path.write_text(CLIP_ROUTINE)
    return path


def _check_clip_result(result) -> None:  # noqa: ANN001 - RoutineResult
    relaxed, laugh, theatrical, last = result.steps
    assert [s.outcome for s in result.steps] == [StepOutcome.HELD, StepOutcome.HELD, StepOutcome.TIMED_OUT,
                                                 StepOutcome.UNFINISHED]  # fmt: skip
    assert relaxed.first_hold_s == pytest.approx(0.3, abs=0.07) and relaxed.best_score >= 85
    assert laugh.first_hold_s is not None and 0.5 <= laugh.first_hold_s <= 1.6 and laugh.best_score >= 95
    assert theatrical.first_hold_s is None and theatrical.best_score < 85
    assert theatrical.duration_s == pytest.approx(0.5, abs=0.04)
    assert last.frames > 0 and result.held == 2
    for s in result.steps:
        assert s.best_jpeg and cv2.imdecode(np.frombuffer(s.best_jpeg, np.uint8), cv2.IMREAD_COLOR).shape[2] == 3


@pytest.mark.media
def test_a_recorded_clip_advances_on_holds_and_on_timeouts(shared_media: Path, clip_routine: Path) -> None:
    routine = load_routine(clip_routine, LIBRARY)
    states = []
    source = open_source(shared_media / "single_face.mp4")
    try:
        run = run_routine(source, routine, LIBRARY, CoachSettings("relaxed_neutral"), on_state=states.append)
    finally:
        source.close()
    assert run.frames == 72
    assert [s.index for s in states if s.advanced] == [1, 2, 3]
    _check_clip_result(run.result)


@pytest.mark.media
def test_analyze_with_a_routine_prints_the_summary(shared_media: Path, clip_routine: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:  # fmt: skip
    code = main(["analyze", str(shared_media / "single_face.mp4"), "--routine", str(clip_routine)])
    out, err = capsys.readouterr()
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0] == "step 1/4: Relaxed and neutral (up to 2 s)"
    assert "  step 3/4 timed out" in lines
    start = lines.index("routine: Clip check (2 of 4 looks held, 2.3 s)")
    summary = lines[start + 1 :]
    assert summary[0].startswith("  1. Relaxed and neutral") and "held after 0.3 s" in summary[0]
    assert "timed out" in summary[2] and "unfinished" in summary[3]
    for args, message in (
        (["--routine", "nope"], "posecoach: error: unknown routine 'nope'"),
        (["--routine", "actors_range", "--target", "genuine_laugh"], "posecoach: error: --target and --routine"),
    ):
        assert main(["analyze", str(shared_media / "single_face.mp4"), *args]) == 2
        _, err = capsys.readouterr()
        assert err.startswith(message) and err.count("\n") == 1
    assert main(["analyze", str(shared_media / "single_face.jpg"), "--routine", "actors_range"]) == 2
    _, err = capsys.readouterr()
    assert err == (f"posecoach: error: {shared_media / 'single_face.jpg'}: a routine needs a video "
                   "(a clip of you going through the looks), not a photo\n")  # fmt: skip


@pytest.mark.media
def test_the_live_path_switches_the_coached_target_as_steps_end(shared_media: Path, clip_routine: Path,
                                                                 decode_clip) -> None:  # noqa: ANN001  # fmt: skip
    from posecoach.live import LiveCoach
    from posecoach.routine_runs import LiveRoutine

    routine = load_routine(clip_routine, LIBRARY)
    settings = CoachSettings("relaxed_neutral")
    coach = LiveCoach(LIBRARY["corporate_headshot"], settings)
    try:
        live = LiveRoutine(routine, LIBRARY, settings)
        live.attach(coach.session)
        assert coach.session.pipeline.target.name == "relaxed_neutral"
        seen = []
        for i, image in enumerate(decode_clip("single_face.mp4")):
            coach.process_array(image, t_ms=i * 1000.0 / 30.0, annotate=False)
            seen.append(coach.session.pipeline.target.name)
        assert seen.index("genuine_laugh") < seen.index("actor_theatrical") < seen.index("passport_neutral")
        _check_clip_result(live.result())
        live.detach()
        assert coach.session.listener is None
    finally:
        coach.close()


def test_the_result_is_a_plain_record_for_a_session_report() -> None:
    import json

    runner = RoutineRunner(ROUTINE, {"relaxed_neutral": "Relaxed"})
    runner.update(frame(0.0, "relaxed_neutral", 88.0, hold=HoldState(1.0, True, 1, True)))
    runner.attach_best_frame(b"\xff\xd8jpeg", 0)
    record = runner.result().record()
    assert json.loads(json.dumps(record)) == record
    assert record["steps"][0] == {"index": 0, "target": "relaxed_neutral", "title": "Relaxed", "outcome": "held",
                                  "duration_s": 0.0, "frames": 1, "scored_frames": 1, "best_score": 88.0,
                                  "best_at_s": 0.0, "best_frame": 0, "first_hold_s": 0.0}  # fmt: skip
    assert runner.result().steps[0].best_jpeg == b"\xff\xd8jpeg"
    assert [s["outcome"] for s in record["steps"]] == ["held", "not reached", "not reached"]


@pytest.mark.media
def test_analyze_with_a_routine_keeps_the_session_and_writes_its_report(
    shared_media: Path, clip_routine: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """``--keep``/``--report`` work with ``--routine``: one kept step per routine step, in
    order, with why each ended (the history's routine seam)."""
    from posecoach.history import History, history_path

    report = tmp_path / "routine.html"
    code = main(["analyze", str(shared_media / "single_face.mp4"), "--routine", str(clip_routine),
                 "--keep", "--report", str(report)])  # fmt: skip
    out, err = capsys.readouterr()
    assert code == 0, err
    assert out.splitlines()[-2:] == [f"kept as session 1 in {history_path()}", f"wrote the session report to {report}"]
    kept = History().get(1)
    assert kept.kind == "routine" and kept.routine == "Clip check"
    assert [s.target for s in kept.steps] == [s.target for s in load_routine(clip_routine, LIBRARY).steps]
    assert [s.ended_by for s in kept.steps][:3] == ["hold", "hold", "time"]
    assert "Clip check" in report.read_text()
