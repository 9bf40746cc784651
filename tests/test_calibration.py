"""Calibration: the pure core, profile files, the live recorder, the real clips and the CLI."""

from __future__ import annotations

import json
import math
import os
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from posecoach.calibration import (
    DEFAULT_LIMITS,
    CalibrationError,
    CalibrationProfile,
    CalibrationRecorder,
    PhaseRejected,
    PhaseSamples,
    build_profile,
    check_neutral,
    check_smile,
    load_profile,
    load_profile_or_warn,
    profile_path,
    robust_median,
    save_profile,
    validate_name,
)
from posecoach.calibration import Window, collect_windows, frame_luma, run_timed
from posecoach.cli_calibrate import TerminalPrompter
from posecoach.results import EyeState, FaceFrame, FrameResult, Cue, Metrics

from factories import simulated_camera

# Real-media tests take conftest's ``shared_media`` fixture, which skips them when ../shared/media is absent.
MEDIA = Path(__file__).resolve().parents[1].parent / "shared" / "media"
CLIP = MEDIA / "single_face.mp4"

# single_face.mp4, from labels.json: neutral 0-17, smile 18-19 rising, big smile 20-68, blink 26-28 (25, 29 unsure).
NEUTRAL_FRAMES = range(0, 18)
SMILE_FRAMES = [i for i in range(20, 69) if not 25 <= i <= 29]
BLINK_FRAMES = range(26, 29)
CREATED = "2026-01-01T00:00:00+00:00"


def metrics(**kw: float | EyeState) -> Metrics:
    base: dict[str, float | EyeState] = dict(
        yaw=-4.0, pitch=12.0, roll=2.0, smile=0.1, mouth_open=0.02, eye_open_left=0.6, eye_open_right=0.62,
        eyes=EyeState.OPEN, squinch=0.2, genuine_smile=0.05, gaze_on_lens=0.8, brow_raise=0.5,
        face_x=0.5, face_y=0.45, face_height=0.4,
    )
    base.update(kw)
    return Metrics(**base)  # type: ignore[arg-type]


def samples(items: list[Metrics | None], luma: float | None = 120.0) -> PhaseSamples:
    return PhaseSamples(tuple(items), tuple([luma] * len(items)) if luma is not None else ())


NEUTRAL = samples([metrics() for _ in range(30)])
SMILE = samples([metrics(smile=0.85, mouth_open=0.45, eye_open_left=0.5, eye_open_right=0.5) for _ in range(30)])
CLOSED = samples([metrics(eye_open_left=0.04, eye_open_right=0.06, eyes=EyeState.CLOSED) for _ in range(20)])


@pytest.fixture
def profile() -> CalibrationProfile:
    return build_profile("ana", NEUTRAL, SMILE, CLOSED, created=CREATED)


@pytest.fixture
def profile_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "profiles"
    monkeypatch.setenv("POSECOACH_CALIBRATION_DIR", str(folder))
    return folder


# -- the pure core ---------------------------------------------------------------------
def test_neutral_maps_to_zero_and_smile_to_one(profile: CalibrationProfile) -> None:
    neutral = profile.apply(metrics())
    assert (neutral.yaw, neutral.pitch, neutral.roll) == (0.0, 0.0, 0.0)
    assert neutral.smile == 0.0 and neutral.squinch == 0.0 and neutral.brow_raise == 0.0
    assert neutral.eye_open_left == pytest.approx(1.0) and neutral.eye_open_right == pytest.approx(1.0)
    assert neutral.gaze_on_lens == pytest.approx(1.0)
    assert profile.apply(SMILE.metrics[0]).smile == pytest.approx(1.0)
    closed = profile.apply(CLOSED.metrics[0])
    assert closed.eye_open_left == pytest.approx(0.0) and closed.eye_open_right == pytest.approx(0.0)
    # Framing is about the picture, not the person: unchanged.
    assert (neutral.face_x, neutral.face_y, neutral.face_height) == (0.5, 0.45, 0.4)


def test_camera_height_pitch_offset_is_removed() -> None:
    """A camera below eye level: the same level head reads chin-up by 12°; calibrated it reads 0."""
    low_camera = samples([metrics(pitch=12.0 + 0.3 * math.sin(i)) for i in range(30)])
    p = build_profile("low", low_camera, SMILE, None, created=CREATED)
    assert p.pitch_offset_deg == pytest.approx(12.0, abs=0.3)
    assert abs(p.apply(metrics(pitch=12.0)).pitch) < 0.3
    # Chin down 5° from their level still reads -5 (the coach can still ask for "chin down").
    assert p.apply(metrics(pitch=7.0)).pitch == pytest.approx(-5.0, abs=0.3)


@pytest.mark.parametrize(
    ("raw", "field", "expected"),
    [
        (dict(smile=0.1), "smile", 0.0),
        (dict(smile=0.0), "smile", 0.0),  # below their rest: clipped, never negative
        (dict(smile=0.475), "smile", 0.5),
        (dict(smile=1.0), "smile", 1.0),  # above their broad smile: clipped
        (dict(yaw=11.0), "yaw", 15.0),
        (dict(roll=-3.0), "roll", -5.0),
        (dict(eye_open_left=0.9), "eye_open_left", 1.0),
        (dict(squinch=0.6), "squinch", 0.5),
        (dict(brow_raise=0.75), "brow_raise", 0.5),
        (dict(gaze_on_lens=0.4), "gaze_on_lens", 0.5),
        (dict(mouth_open=0.51), "mouth_open", 0.5),
    ],
)
def test_apply_table(profile: CalibrationProfile, raw: dict, field: str, expected: float) -> None:
    assert profile.apply(metrics(**raw)).value(field) == pytest.approx(expected, abs=1e-6)


def test_before_after_pairs(profile: CalibrationProfile) -> None:
    pairs = dict((name, (before, after)) for name, before, after in profile.before_after(metrics()))
    assert pairs["smile"] == (pytest.approx(0.1), 0.0)
    assert pairs["pitch"] == (12.0, 0.0)
    assert pairs["eye_open"] == (pytest.approx(0.61), pytest.approx(1.0))


def test_eye_state_is_reread_relative_to_the_person(profile: CalibrationProfile) -> None:
    # Raw said "closed" but for this person 0.45 is most of the way open.
    assert profile.apply(metrics(eye_open_left=0.45, eye_open_right=0.45, eyes=EyeState.CLOSED)).eyes is EyeState.OPEN
    assert profile.apply(metrics(eye_open_left=0.08, eye_open_right=0.1, eyes=EyeState.OPEN)).eyes is EyeState.CLOSED
    down = metrics(eye_open_left=0.2, eye_open_right=0.2, eyes=EyeState.LOOKING_DOWN)
    assert profile.apply(down).eyes is EyeState.LOOKING_DOWN


def test_apply_knows_every_metrics_field(profile: CalibrationProfile) -> None:
    """apply() builds Metrics positionally (speed): a new or reordered field must be handled there."""
    from dataclasses import fields

    assert [f.name for f in fields(Metrics)] == [
        "yaw", "pitch", "roll", "smile", "mouth_open", "eye_open_left", "eye_open_right", "eyes", "squinch",
        "genuine_smile", "gaze_on_lens", "brow_raise", "face_x", "face_y", "face_height",
    ], "Metrics changed: update CalibrationProfile.apply and this list"
    m = metrics(face_x=0.11, face_y=0.22, face_height=0.33, eyes=EyeState.LOOKING_DOWN, eye_open_left=0.3)
    out = profile.apply(m)
    assert (out.face_x, out.face_y, out.face_height, out.eyes) == (0.11, 0.22, 0.33, EyeState.LOOKING_DOWN)


def test_without_a_closed_phase_closed_is_a_fraction_of_open() -> None:
    p = build_profile("ana", NEUTRAL, SMILE, None, created=CREATED)
    assert p.eye_closed_left == pytest.approx(DEFAULT_LIMITS.default_closed_fraction * 0.6)
    assert p.closed_frames == 0 and not p.closed_measured


def test_robust_median_ignores_blinks() -> None:
    values = [0.75, 0.76, 0.74, 0.77, 0.75, 0.02, 0.01, 0.76, 0.75]
    assert robust_median(values) == pytest.approx(0.75, abs=0.005)
    assert math.isnan(robust_median([]))
    # A blink in the neutral phase does not lower "open".
    blink = metrics(eye_open_left=0.02, eye_open_right=0.02)
    blinky = samples([blink if i % 10 == 3 else metrics() for i in range(30)])
    assert build_profile("ana", blinky, SMILE, None, created=CREATED).eye_open_left == pytest.approx(0.6)


def _moving(i: int) -> Metrics:
    return metrics(yaw=-20.0 + 40.0 * i / 29)


@pytest.mark.parametrize(
    ("neutral", "smile", "closed", "phase", "reason"),
    [
        (samples([]), SMILE, None, "neutral",
         "no frames were recorded: check that the camera or video delivers frames"),
        (samples([None] * 30), SMILE, None, "neutral",
         "no face found: sit in front of the camera with your whole face in view"),
        (samples([metrics() if i % 2 else None for i in range(30)]), SMILE, None, "neutral",
         "your face was lost in 50% of the frames: keep your whole face in view, in good light, and hold still"),
        (samples([metrics()] * 30, luma=25.0), SMILE, None, "neutral",
         "too dark (brightness 25/255, need 40): turn on a light in front of you"),
        (samples([metrics()] * 4), SMILE, None, "neutral",
         "only 4 frames with a face (need 5): hold the pose a little longer"),
        (samples([_moving(i) for i in range(30)]), SMILE, None, "neutral",
         "you moved too much (your head turned through 32°): hold your head still for the whole phase"),
        (samples([metrics(face_x=0.2 + 0.02 * i) for i in range(30)]), SMILE, None, "neutral",
         "you moved too much (your face moved 46% of the frame): hold still for the whole phase"),
        (samples([metrics(yaw=40.0)] * 30), SMILE, None, "neutral",
         "your head was turned 40° away from the camera: face the lens squarely and look into it"),
        (samples([metrics(eye_open_left=0.01, eye_open_right=0.01)] * 30), SMILE, None, "neutral",
         "your eyes looked closed or hidden: keep them open and look into the lens"),
        (NEUTRAL, samples([metrics(smile=0.2)] * 30), None, "smile",
         "your smile was not clearly bigger than your neutral face (smile 0.20 vs 0.10 at rest): "
         "smile as broadly as feels natural and hold it"),
        (NEUTRAL, SMILE, samples([metrics()] * 20), "closed",
         "your eyes did not look closed (openness 0.61 vs 0.61 open): "
         "close them gently and keep them closed until the phase ends"),
    ],
)
def test_unusable_phases_are_rejected_with_a_reason(
    neutral: PhaseSamples, smile: PhaseSamples, closed: PhaseSamples | None, phase: str, reason: str
) -> None:
    with pytest.raises(PhaseRejected) as e:
        build_profile("ana", neutral, smile, closed)
    assert (e.value.phase, e.value.reason) == (phase, reason)
    assert str(e.value) == f"{phase} phase rejected: {reason}"


def test_a_few_lost_frames_are_fine() -> None:
    some_lost = samples([None if i % 5 == 0 else metrics() for i in range(30)])
    assert build_profile("ana", some_lost, SMILE, None).neutral_frames == 24


def test_phase_samples_need_matching_luma() -> None:
    with pytest.raises(ValueError, match="2 luma values for 3 frames"):
        PhaseSamples((None, None, None), (1.0, 2.0))


@pytest.mark.parametrize(
    ("name", "ok"),
    [("ana", True), ("Ana_2-b", True), ("a" * 64, True), ("", False), ("a" * 65, False), ("../x", False),
     ("a/b", False), (".hidden", False), ("-x", False), ("a b", False), ("con", False), ("x.json", False), (3, False)],
)
def test_profile_names(name: object, ok: bool) -> None:
    if ok:
        assert validate_name(name) == name
    else:
        with pytest.raises(CalibrationError, match="^invalid profile name"):
            validate_name(name)


# -- profile files ---------------------------------------------------------------------
def test_round_trip(profile: CalibrationProfile, profile_dir: Path) -> None:
    path = save_profile(profile)
    assert path == profile_dir / "ana.json"
    assert load_profile("ana") == profile
    assert load_profile(path) == profile
    assert load_profile(str(path)) == profile
    data = json.loads(path.read_text())
    assert data["version"] == 1 and data["name"] == "ana" and data["created"] == CREATED
    assert all(isinstance(v, (int, float)) for k, v in data.items() if k not in ("name", "created"))


def test_default_folder_is_the_repository_calibration_dir(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("POSECOACH_CALIBRATION_DIR", raising=False)
    assert profile_path("ana") == Path(__file__).resolve().parents[1] / "calibration" / "ana.json"


def _write(folder: Path, text: str | bytes, name: str = "ana") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.json"
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    return path


def _good(**changes: object) -> str:
    data = build_profile("ana", NEUTRAL, SMILE, None, created=CREATED).to_dict()
    for k, v in changes.items():
        if v is KeyError:
            del data[k]
        else:
            data[k] = v
    return json.dumps(data)


_TRUNCATED = _good()[: _good().index('"smile_full"')]  # cut off mid-write


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (_TRUNCATED, f"corrupt or truncated calibration profile (invalid JSON at line 1, column {len(_TRUNCATED) + 1}: "
                     "Expecting property name enclosed in double quotes): redo the calibration"),
        ("{", "corrupt or truncated calibration profile (invalid JSON at line 1, column 2: "
              "Expecting property name enclosed in double quotes): redo the calibration"),
        ("", "empty calibration profile (redo the calibration)"),
        (b"\x89PNG\r\n\x1a\n\x00\xff\xfe" * 10, "not a calibration profile (binary data, not UTF-8 JSON)"),
        ("[1, 2]", "not a calibration profile (expected a JSON object, got a list)"),
        ("[" * 60000, "corrupt calibration profile (RecursionError)"),
        ("x" * 70000, "not a calibration profile (larger than 64 KiB)"),
        (_good(version=2), "field 'version': unsupported version 2 (this posecoach reads version 1): "
                           "redo the calibration with `posecoach calibrate`"),
        (_good(version="1"), "field 'version': expected an integer, got a string"),
        (_good(version=KeyError), "field 'version': missing (not a posecoach calibration profile)"),
        (_good(smile_full=float("nan")), "field 'smile_full': expected a finite number, got nan"),
        (_good(pitch_offset_deg=float("inf")), "field 'pitch_offset_deg': expected a finite number, got inf"),
        (_good(pitch_offset_deg=-90), "field 'pitch_offset_deg': out of range: -90 (expected -35 to 35)"),
        (_good(smile_neutral="0.1"), "field 'smile_neutral': expected a number, got a string"),
        (_good(smile_neutral=True), "field 'smile_neutral': expected a number, got a boolean"),
        (_good(smile_neutral=None), "field 'smile_neutral': expected a number, got null"),
        (_good(neutral_frames=3.5), "field 'neutral_frames': expected an integer, got float"),
        (_good(eye_open_left=KeyError), "field 'eye_open_left': missing"),
        (_good(smile_full=0.15), "field 'smile_full': must be at least 0.15 above smile_neutral (0.1), got 0.15"),
        (_good(eye_closed_left=0.6),
         "field 'eye_closed_left': must be at least 0.02 below eye_open_left (0.6), got 0.6"),
        (_good(name="../../etc"), "field 'name': invalid profile name '../../etc'"),
        (_good(created=12), "field 'created': expected an ISO 8601 time string, got int"),
        (_good(created="yesterday"), "field 'created': not an ISO 8601 time: 'yesterday'"),
        (_good(image=[1, 2, 3]), "field 'image': unknown field"),
    ],
)
def test_bad_files_give_one_clear_error(profile_dir: Path, content: str | bytes, message: str) -> None:
    path = _write(profile_dir, content)
    with pytest.raises(CalibrationError) as e:
        load_profile("ana")
    assert str(e.value) == f"{path}: {message}"
    profile, warning = load_profile_or_warn("ana")
    assert profile is None and warning == f"{path}: {message}: coaching uncalibrated"


def test_missing_profile_and_directory(profile_dir: Path) -> None:
    missing = profile_dir / "bob.json"
    with pytest.raises(CalibrationError) as e:
        load_profile("bob")
    assert str(e.value) == (
        f"{missing}: calibration profile not found (create it with `posecoach calibrate ... --name bob`)"
    )
    (profile_dir / "dir.json").mkdir(parents=True)
    with pytest.raises(CalibrationError, match=r"dir\.json: is a directory, not a calibration profile$"):
        load_profile("dir")
    assert load_profile_or_warn(None) == (None, "")


@pytest.mark.parametrize("bad", ["../x", "a\x00b", 42, None])
def test_loader_raises_only_calibration_error(profile_dir: Path, bad: object) -> None:
    with pytest.raises(CalibrationError):
        load_profile(bad)  # type: ignore[arg-type]


@pytest.mark.parametrize("fail_at", ["fsync", "replace"])
def test_interrupted_write_keeps_the_previous_profile(
    profile: CalibrationProfile, profile_dir: Path, monkeypatch: pytest.MonkeyPatch, fail_at: str
) -> None:
    path = save_profile(profile)
    before = path.read_bytes()
    newer = build_profile("ana", NEUTRAL, samples([metrics(smile=0.7)] * 30), None, created="2026-02-02T00:00:00+00:00")

    def boom(*_args: object) -> None:
        if fail_at == "fsync":
            raise KeyboardInterrupt  # the person pressed Ctrl-C mid-write
        raise OSError(28, "No space left on device")

    expected = KeyboardInterrupt if fail_at == "fsync" else CalibrationError
    with monkeypatch.context() as patched, pytest.raises(expected) as e:
        patched.setattr(os, fail_at, boom)
        save_profile(newer)
    if fail_at == "replace":
        assert str(e.value) == f"{path}: cannot write calibration profile (No space left on device)"
    assert path.read_bytes() == before
    assert load_profile("ana") == profile
    assert sorted(p.name for p in profile_dir.iterdir()) == ["ana.json"]  # no temporary file left


# -- the live recorder -----------------------------------------------------------------
def _feed(rec: CalibrationRecorder, schedule, fps: float = 30.0, until_s: float = 30.0):  # noqa: ANN001
    """Feed ``schedule(t_s, status, phase) -> Metrics | None`` until done; return the states."""
    states = []
    for i in range(int(until_s * fps)):
        t_ms = i * 1000.0 / fps
        st = rec.state
        states.append(rec.update(schedule(t_ms / 1000.0, st.status, st.phase), t_ms, luma=120.0))
        if states[-1].finished:
            break
    return states


def _good_person(_t: float, _status: str, phase: str | None) -> Metrics:
    return {"neutral": NEUTRAL, "smile": SMILE, "closed": CLOSED}[phase or "neutral"].metrics[0]


def test_recorder_walks_through_the_phases() -> None:
    rec = CalibrationRecorder("ana")
    first = rec.update(None, 0.0)
    assert (first.status, first.phase, first.phase_number, first.n_phases) == ("prepare", "neutral", 1, 3)
    assert first.prompt == "Get ready: relax your face and look straight into the lens"
    assert first.seconds_left == pytest.approx(2.0) and first.feedback == "" and first.feedback_ok is None
    states = _feed(rec, _good_person)
    final = states[-1]
    assert final.status == "done" and final.profile is not None and final.progress == 1.0
    assert final.profile.closed_frames > 0 and final.profile.apply(NEUTRAL.metrics[0]).smile == 0.0
    seen = [(s.status, s.phase) for s in states]
    order = list(dict.fromkeys(seen))
    assert order == [("prepare", "neutral"), ("record", "neutral"), ("prepare", "smile"), ("record", "smile"),
                     ("prepare", "closed"), ("record", "closed"), ("done", None)]
    recording = [s for s in states if s.status == "record" and s.phase == "neutral"]
    assert recording[0].prompt == "Relax your face and look straight into the lens"
    assert recording[0].seconds_left == pytest.approx(3.0) and recording[-1].seconds_left < 0.05
    assert all(a.seconds_left >= b.seconds_left for a, b in zip(recording, recording[1:]))
    assert [s.feedback for s in states if s.phase == "smile"][0] == "Neutral face: done (90 frames with your face)"
    total = states[-1].profile
    assert total.neutral_frames == 90 and total.smile_frames == 90 and total.closed_frames == 60
    # 2 s countdown + recording per phase: under 15 s in all.
    assert len(states) / 30.0 < 15.0


def test_recorder_repeats_a_rejected_phase_then_gives_up() -> None:
    rec = CalibrationRecorder("ana", include_closed=False, max_attempts=2)

    def no_smile(t: float, status: str, phase: str | None) -> Metrics:
        return NEUTRAL.metrics[0]

    states = _feed(rec, no_smile)
    retry = [s for s in states if s.feedback_ok is False]
    assert retry[0].status == "prepare" and retry[0].phase == "smile" and retry[0].attempt == 2
    assert retry[0].feedback.startswith("Big smile: let's try that again - your smile was not clearly bigger")
    assert states[-1].status == "failed" and states[-1].profile is None
    assert states[-1].feedback.startswith("Big smile: your smile was not clearly bigger")


def test_recorder_time_advances_without_a_face_and_uses_raw_metrics() -> None:
    rec = CalibrationRecorder("ana", include_closed=False)
    raw = NEUTRAL.metrics[0]
    result = FrameResult(
        0, 0, FaceFrame.empty(), metrics=metrics(smile=0.9), raw_metrics=raw, score=None, cue=Cue.none()
    )
    states = _feed(rec, lambda t, s, p: None)  # nobody there: time passes, the phase fails
    assert states[-1].status == "failed" and "no face found" in states[-1].feedback
    assert not states[-1].face_found
    rec.restart()
    assert rec.state.status == "prepare" and rec.state.feedback == ""
    states = _feed(rec, lambda t, s, p: result if p == "neutral" else SMILE.metrics[0])
    assert states[-1].status == "done"
    assert states[-1].profile.smile_neutral == pytest.approx(0.1)  # from raw_metrics, not .metrics


def test_recorder_never_raises_in_the_frame_loop() -> None:
    rec = CalibrationRecorder("ana")
    assert rec.update("not metrics", 0.0).status == "prepare"  # type: ignore[arg-type]
    assert rec.update(metrics(), float("nan"), luma=float("inf")).status == "prepare"
    assert rec.update(metrics(), "soon").status == "prepare"  # type: ignore[arg-type]
    assert rec.update(metrics(smile=float("nan")), 100.0).status == "prepare"


def test_recorder_can_skip_the_closed_phase() -> None:
    rec = CalibrationRecorder("ana")
    _feed(rec, lambda t, s, p: None if p == "closed" else _good_person(t, s, p), until_s=11.0)
    assert rec.state.phase == "closed"
    assert rec.skip_phase().status == "done"
    assert rec.state.profile is not None and not rec.state.profile.closed_measured
    assert set(rec.samples) == {"neutral", "smile"}


def test_terminal_prompter_prints_only_changes() -> None:
    lines: list[str] = []
    rec = CalibrationRecorder("ana", include_closed=False)
    prompter = TerminalPrompter(lines.append, bell=False)
    for s in _feed(rec, _good_person):
        prompter(s)
    assert lines == [
        "[1/2] Neutral face: Get ready: relax your face and look straight into the lens",
        "  2...",
        "  1...",
        "  recording 3 s: Relax your face and look straight into the lens",
        "  ok: Neutral face: done (90 frames with your face)",
        "[2/2] Big smile: Get ready: give your biggest natural smile and hold it",
        "  2...",
        "  1...",
        "  recording 3 s: Give your biggest natural smile and hold it",
        "  ok: Big smile: done (90 frames with your face)",
    ]


def test_frame_luma() -> None:
    assert frame_luma(np.full((40, 60, 3), (0, 0, 255), np.uint8)) == pytest.approx(0.299 * 255, abs=0.01)
    assert frame_luma(np.full((40, 60), 100, np.uint8)) == pytest.approx(100.0)
    assert frame_luma(np.zeros((0, 0, 3), np.uint8)) == 0.0


# -- the real model on the real clips --------------------------------------------------
@pytest.fixture(scope="module")
def clip_frames(decode_clip) -> list:  # noqa: ANN001 - conftest fixture
    """single_face.mp4 as :class:`~posecoach.sources.Frame` values (30 fps timestamps)."""
    from posecoach.sources import Frame

    return [Frame(image, i, i * 1000.0 / 30.0) for i, image in enumerate(decode_clip("single_face.mp4"))]


@pytest.fixture(scope="module")
def clip_observed(tracked_clip, clip_frames: list) -> list[tuple[Metrics | None, float]]:  # noqa: ANN001
    """(raw metrics or None, luma) per frame of single_face.mp4, as TrackerObserver gives them."""
    from posecoach.metrics import compute_metrics, is_plausible_face

    faces = tracked_clip("single_face.mp4")
    return [
        (compute_metrics(face) if face.has_face and is_plausible_face(face) else None, frame_luma(frame.image))
        for face, frame in zip(faces, clip_frames, strict=True)
    ]


@pytest.fixture(scope="module")
def clip_profile(clip_frames: list) -> CalibrationProfile:
    """Built the way `posecoach calibrate` does: neutral 0-0.5 s, smile 1.2-2.2 s."""
    from posecoach.calibration import TrackerObserver
    from posecoach.detector import FaceTracker, TrackerMode

    with FaceTracker(mode=TrackerMode.VIDEO) as tracker:
        windows = {"neutral": Window(0, 0.5), "smile": Window(1.2, 2.2)}
        s = collect_windows(iter(clip_frames), TrackerObserver(tracker), windows)
    assert (s["neutral"].frames, s["smile"].frames) == (15, 30)
    return build_profile("clip", s["neutral"], s["smile"], None, created=CREATED)


def _values(observed, frames, name, profile=None) -> np.ndarray:  # noqa: ANN001
    ms = [observed[i][0] for i in frames]
    assert all(m is not None for m in ms)
    return np.array([(profile.apply(m) if profile else m).value(name) for m in ms])


@pytest.mark.media
def test_clip_profile_maps_neutral_to_zero_and_smile_to_one(clip_profile, clip_observed) -> None:  # noqa: ANN001
    # Measured: uncalibrated smile on the neutral frames median 0.00 (max 0.10), on the smiling
    # frames median 0.86 (0.77-0.91); calibrated 0.00 (max 0.11) and 0.98 (0.89-1.00).
    neutral = _values(clip_observed, NEUTRAL_FRAMES, "smile", clip_profile)
    smiling = _values(clip_observed, SMILE_FRAMES, "smile", clip_profile)
    assert np.median(neutral) < 0.03 and neutral.max() < 0.2
    assert np.median(smiling) > 0.93 and smiling.min() > 0.8
    assert np.median(_values(clip_observed, SMILE_FRAMES, "smile")) < np.median(smiling)  # calibrated reads higher
    # Eyes: relaxed open -> ~1, the blink -> ~0, a smile-narrowed eye in between.
    assert np.median(_values(clip_observed, NEUTRAL_FRAMES, "eye_open", clip_profile)) > 0.95
    assert np.median(_values(clip_observed, BLINK_FRAMES, "eye_open", clip_profile)) < 0.1
    assert 0.5 < np.median(_values(clip_observed, SMILE_FRAMES, "eye_open", clip_profile)) < 0.9


@pytest.mark.media
def test_clip_profile_zeroes_the_neutral_head_angles(clip_profile, clip_observed) -> None:  # noqa: ANN001
    # Measured uncalibrated medians: yaw -3.9°, pitch -4.6°, roll +2.8°; calibrated ~0.0 each.
    for angle in ("yaw", "pitch", "roll"):
        raw = np.median(_values(clip_observed, NEUTRAL_FRAMES, angle))
        calibrated = np.median(_values(clip_observed, NEUTRAL_FRAMES, angle, clip_profile))
        assert abs(calibrated) < 1.5, (angle, raw, calibrated)
    assert abs(clip_profile.pitch_offset_deg) > 2.0  # there was a bias to remove


@pytest.mark.media
def test_camera_height_on_the_real_neutral_face(clip_observed) -> None:  # noqa: ANN001
    """The clip's own neutral face seen by a camera 12° lower: chin-up by 12° until calibrated."""
    lifted = [m.replace(pitch=m.pitch + 12.0) for m, _ in (clip_observed[i] for i in NEUTRAL_FRAMES)]
    smile = [clip_observed[i][0] for i in SMILE_FRAMES]
    p = build_profile("low", samples(lifted), samples(smile), None, created=CREATED)
    assert np.median([m.pitch for m in lifted]) > 6.0
    assert abs(np.median([p.apply(m).pitch for m in lifted])) < 1.0


@pytest.mark.media
def test_smile_phase_from_neutral_frames_is_rejected(clip_observed) -> None:  # noqa: ANN001
    neutral = samples([clip_observed[i][0] for i in range(0, 15)])
    still_neutral = samples([clip_observed[i][0] for i in range(0, 18)])
    with pytest.raises(PhaseRejected) as e:
        check_smile(still_neutral, check_neutral(neutral))
    assert e.value.phase == "smile"
    assert e.value.reason.startswith("your smile was not clearly bigger than your neutral face (smile 0.06 vs 0.06")


@pytest.mark.media
def test_phase_over_no_face_clip_is_rejected(shared_media: Path) -> None:
    from posecoach.calibration import TrackerObserver
    from posecoach.detector import FaceTracker
    from posecoach.sources import VideoFileSource

    src = VideoFileSource(shared_media / "no_face.mp4")
    with FaceTracker() as tracker:
        s = collect_windows(iter(src), TrackerObserver(tracker), {"neutral": Window(0, 2), "smile": Window(2, 4)})
    src.close()
    assert s["neutral"].frames > 40 and s["neutral"].with_face == 0
    with pytest.raises(PhaseRejected) as e:
        check_neutral(s["neutral"])
    assert e.value.phase == "neutral"
    assert e.value.reason == "no face found: sit in front of the camera with your whole face in view"


@pytest.mark.media
def test_dark_frames_are_rejected_as_too_dark(clip_frames) -> None:  # noqa: ANN001
    from posecoach.calibration import TrackerObserver
    from posecoach.detector import FaceTracker
    from posecoach.sources import Frame

    dark = [Frame((f.image * 0.15).astype(np.uint8), f.index, f.t_ms) for f in clip_frames]
    with FaceTracker() as tracker:
        s = collect_windows(iter(dark), TrackerObserver(tracker), {"neutral": Window(0, 0.5)})
    with pytest.raises(PhaseRejected, match=r"^neutral phase rejected: too dark \(brightness 2\d/255, need 40\)"):
        check_neutral(s["neutral"])


def _simulated_camera(clip_frames: list) -> Iterator:
    """factories.simulated_camera as :class:`~posecoach.sources.Frame` values."""
    from posecoach.sources import Frame

    images = [frame.image for frame in clip_frames]
    for i, (t_ms, image) in enumerate(simulated_camera(images)):
        yield Frame(image, i, t_ms)


@pytest.mark.media
def test_timed_runner_over_a_simulated_camera(clip_frames, clip_profile) -> None:  # noqa: ANN001
    from posecoach.calibration import TrackerObserver
    from posecoach.detector import FaceTracker

    rec = CalibrationRecorder("live")
    shown: list[str] = []
    with FaceTracker() as tracker:
        prompter = TerminalPrompter(shown.append, bell=False)
        state = run_timed(_simulated_camera(clip_frames), TrackerObserver(tracker), rec, prompter)
    assert state.status == "done", state.feedback
    p = state.profile
    assert p.closed_measured and p.eye_closed_left < 0.1
    # Live and from-file calibrations of the same person agree.
    assert p.smile_full == pytest.approx(clip_profile.smile_full, abs=0.05)
    assert p.pitch_offset_deg == pytest.approx(clip_profile.pitch_offset_deg, abs=1.5)
    assert "  ok: Eyes closed: done (30 frames with your face)" in shown


# -- the command line ------------------------------------------------------------------
def _run(capfd: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    from posecoach.cli import main

    code = main(list(argv))
    out, err = capfd.readouterr()
    return code, out, err


@pytest.mark.media
def test_cli_calibrate_from_a_video(shared_media: Path, profile_dir: Path, capfd: pytest.CaptureFixture[str]) -> None:
    code, out, err = _run(capfd, "calibrate", str(CLIP), "--name", "me", "--neutral", "0:0.5", "--smile", "1.2:2.2")
    assert (code, err) == (0, "")
    lines = out.splitlines()
    assert lines[0].startswith(
        "neutral: 15 frames (0-0.5 s), face in 15 (100%), brightness 144/255; yaw -4.0°, pitch -4.6°"
    )
    assert lines[1].startswith("smile:   30 frames (1.2-2.2 s), face in 30 (100%), brightness 144/255; smile 0.9")
    assert lines[2] == "closed:  skipped; closed eyes default to a fraction of open"
    assert f"profile: {profile_dir / 'me.json'}" in lines
    profile = load_profile("me")
    assert profile.neutral_frames == 15 and profile.smile_frames == 30

    # Using it: analyze carries on with the profile, no warning.
    code, out, err = _run(capfd, "analyze", str(CLIP), "--profile", "me")
    assert code == 0 and "warning" not in err


@pytest.mark.media
@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--neutral", "0:0.5", "--smile", "0:0.5"],
         "smile phase rejected: your smile was not clearly bigger than your neutral face (smile 0.06 vs 0.06 at rest): "
         "smile as broadly as feels natural and hold it"),
        (["--neutral", "0:0.5", "--smile", "5:6"], f"{CLIP}: --smile 5:6 holds no frames (the video ends at 2.37 s)"),
        (["--neutral", "0:0.5", "--smile", "1.2:2.2", "--closed", "0.85:0.95"],
         "closed phase rejected: only 3 frames with a face (need 5): hold the pose a little longer"),
        (["--neutral", "0:0.5"],
         "calibrating from a video file needs --neutral START:END and --smile START:END (seconds into the video)"),
    ],
)
def test_cli_calibrate_rejections(
    shared_media: Path,
    profile_dir: Path, capfd: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    code, out, err = _run(capfd, "calibrate", str(CLIP), "--name", "me", *args)
    assert (code, out, err) == (2, "", f"posecoach: error: {message}\n")
    assert not (profile_dir / "me.json").exists()


@pytest.mark.media
def test_cli_calibrate_no_face_clip(shared_media: Path, profile_dir: Path, capfd: pytest.CaptureFixture[str]) -> None:
    no_face = str(shared_media / "no_face.mp4")
    code, _, err = _run(capfd, "calibrate", no_face, "--name", "x", "--neutral", "0:1", "--smile", "1:2")
    assert code == 2
    assert err == (
        "posecoach: error: neutral phase rejected: no face found: "
        "sit in front of the camera with your whole face in view\n"
    )


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["calibrate", "--name", "a/b", "x.mp4"],
         "posecoach: error: invalid profile name 'a/b': "
         "use 1-64 letters, digits, '_' or '-', starting with a letter or digit\n"),
        (["calibrate", "--name", "me"],
         "posecoach: error: calibrate needs a video file (with --neutral and --smile) or --camera N\n"),
        (["calibrate", "--name", "me", "--camera", "0", "--neutral", "0:1"],
         "posecoach: error: --neutral/--smile/--closed select times in a video file; "
         "with --camera the phases are prompted live\n"),
        (["calibrate", "nope.mp4", "--name", "me", "--neutral", "0:1", "--smile", "1:2"],
         "posecoach: error: nope.mp4: file not found\n"),
    ],
)
def test_cli_calibrate_usage_errors(
    profile_dir: Path, capfd: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    code, out, err = _run(capfd, *argv)
    assert (code, out, err) == (2, "", message)


@pytest.mark.parametrize("window", ["3:1", "2:2", "1", "a:b", "nan:1", "0:inf"])
def test_cli_rejects_bad_time_windows(capfd: pytest.CaptureFixture[str], window: str) -> None:
    with pytest.raises(SystemExit) as e:
        _run(capfd, "calibrate", "x.mp4", "--name", "me", "--neutral", window, "--smile", "1:2")
    assert e.value.code == 2
    err = capfd.readouterr().err
    assert err == (
        f"posecoach: error: argument --neutral: expected START:END in seconds with 0 <= START < END (e.g. 0:3), "
        f"got {window!r} (see posecoach --help)\n"
    )


@pytest.mark.media
def test_cli_missing_or_corrupt_profile_warns_and_coaches_uncalibrated(
    shared_media: Path,
    profile_dir: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    code, out, err = _run(capfd, "analyze", str(CLIP), "--profile", "missing")
    assert code == 0 and "frames: 72" in out
    assert err == (
        f"posecoach: warning: {profile_dir / 'missing.json'}: calibration profile not found "
        "(create it with `posecoach calibrate ... --name missing`): coaching uncalibrated\n"
    )
    _write(profile_dir, '{"version": 1, "name": "bad"', name="bad")
    code, _, err = _run(capfd, "analyze", str(CLIP), "--profile", "bad")
    assert code == 0 and err.startswith(f"posecoach: warning: {profile_dir / 'bad.json'}: corrupt or truncated")
    assert err.endswith(": coaching uncalibrated\n") and err.count("\n") == 1


@pytest.mark.media
def test_cli_calibrate_live_camera_simulated(
    profile_dir: Path, capfd: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, clip_frames: list
) -> None:
    """`calibrate --camera N` with the camera replaced by a simulated one (no camera here)."""
    import posecoach.sources

    class FakeCamera:
        is_image, n_frames, fps = False, None, 15.0

        def __init__(self, index: int) -> None:
            self.name = f"camera {index}"

        def __iter__(self) -> Iterator:
            return _simulated_camera(clip_frames)

        def close(self) -> None:
            pass

    monkeypatch.setattr(posecoach.sources, "CameraSource", FakeCamera)
    code, out, err = _run(capfd, "calibrate", "--camera", "0", "--name", "live", "--no-closed")
    assert (code, err) == (0, "")
    lines = out.replace("\a", "").splitlines()
    assert lines[0] == "Calibrating 'live': about 10 s. Sit facing the camera in good light and follow the prompts."
    assert lines[1] == "[1/2] Neutral face: Get ready: relax your face and look straight into the lens"
    assert "  recording 3 s: Give your biggest natural smile and hold it" in lines
    assert "  ok: Big smile: done (45 frames with your face)" in lines
    assert f"profile: {profile_dir / 'live.json'}" in lines
    assert load_profile("live").smile_frames == 45
