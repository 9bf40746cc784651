"""The overlay draws what it is given, where it belongs, cheaply, and never reshapes the frame."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest

from posecoach.coaching import NO_FACE_TEXT
from posecoach.overlay import FACE_OVAL, Annotator, Detail
from posecoach.results import (
    N_LANDMARKS,
    Cue,
    EyeState,
    FaceFrame,
    FrameResult,
    HoldState,
    Metrics,
    MetricScore,
    TargetScore,
)

W, H = 640, 360
GREY = 100
#: Where the synthetic face oval sits in the RAW frame (normalised centre and radii).
OVAL_CX, OVAL_CY, OVAL_RX, OVAL_RY = 0.3, 0.5, 0.1, 0.2


def grey_frame(channels: int = 3) -> np.ndarray:
    shape = (H, W) if channels == 1 else (H, W, channels)
    return np.full(shape, GREY, np.uint8)


def face_frame() -> FaceFrame:
    """478 landmarks with the face-oval points on an ellipse left of centre (raw image)."""
    lms = np.zeros((N_LANDMARKS, 3), np.float32)
    lms[:, 0], lms[:, 1] = OVAL_CX, OVAL_CY
    angles = np.linspace(0, 2 * np.pi, len(FACE_OVAL), endpoint=False)
    lms[list(FACE_OVAL), 0] = OVAL_CX + OVAL_RX * np.sin(angles)
    lms[list(FACE_OVAL), 1] = OVAL_CY - OVAL_RY * np.cos(angles)
    return FaceFrame(lms, np.zeros(52, np.float32), np.eye(4, dtype=np.float32), (W, H), 1, 1000)


def metrics(**changes: float) -> Metrics:
    values = dict(
        yaw=0.0, pitch=0.0, roll=0.0, smile=0.3, mouth_open=0.0, eye_open_left=0.8, eye_open_right=0.8,
        eyes=EyeState.OPEN, squinch=0.2, genuine_smile=0.2, gaze_on_lens=0.9, brow_raise=0.1,
        face_x=OVAL_CX, face_y=OVAL_CY, face_height=0.4,
    )  # fmt: skip
    values.update(changes)
    return Metrics(**values)  # type: ignore[arg-type]


def with_face(cue: str = "Smile a little more", score: float = 72.0, hold: HoldState = HoldState(), n_faces: int = 1,
              **metric_changes: float) -> FrameResult:  # fmt: skip
    m = metrics(**metric_changes)
    face = face_frame()
    if n_faces != 1:
        face = FaceFrame(face.landmarks, face.blendshapes, face.matrix, face.image_wh, n_faces, face.t_ms)
    ts = TargetScore("t", score, (MetricScore("yaw", m.yaw, 1.0, 0, 1.0), MetricScore("smile", m.smile, 0.5, 1, 1.0)))
    return FrameResult(3, 1000, face, m, m, ts, Cue(cue, "smile", 1), hold)


def no_face(cue: Cue = Cue.none()) -> FrameResult:
    return FrameResult(4, 1033, FaceFrame.empty((W, H), 1033), None, None, None, cue)


@dataclass(frozen=True)
class _Range:
    metric: str
    low: float
    high: float
    tolerance: float = 5.0
    weight: float = 1.0


@dataclass(frozen=True)
class _Target:
    name: str = "t"
    threshold: float = 80.0
    ranges: tuple[_Range, ...] = (_Range("yaw", 10.0, 20.0), _Range("pitch", -8.0, -2.0))


def changed(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Pixels that differ, as an (H, W) bool mask."""
    d = a.astype(np.int16) - b.astype(np.int16)
    return np.abs(d).reshape(a.shape[0], a.shape[1], -1).max(axis=2) > 0


def oval_ring_mask(cx: float) -> np.ndarray:
    """Pixels within 3 px of the synthetic oval centred at normalised ``cx``."""
    yy, xx = np.mgrid[0:H, 0:W]
    r = np.sqrt(((xx - cx * W) / (OVAL_RX * W)) ** 2 + ((yy - OVAL_CY * H) / (OVAL_RY * H)) ** 2)
    return np.abs(r - 1.0) * min(OVAL_RX * W, OVAL_RY * H) < 3.0


def oval_inside_mask(cx: float) -> np.ndarray:
    yy, xx = np.mgrid[0:H, 0:W]
    r = np.sqrt(((xx - cx * W) / (OVAL_RX * W)) ** 2 + ((yy - OVAL_CY * H) / (OVAL_RY * H)) ** 2)
    return r < 0.8


# -- what is drawn where -----------------------------------------------------------------
def test_annotate_draws_outline_score_and_cue_where_expected() -> None:
    image = grey_frame()
    out = Annotator().annotate(image, with_face(), mirrored=False)
    diff = changed(out, grey_frame())
    ring = oval_ring_mask(OVAL_CX)
    assert diff[ring].mean() > 0.3, "the face outline follows the landmarks"
    assert not diff[oval_inside_mask(OVAL_CX)].any(), "the face itself is left alone"
    assert diff[H - 20 : H, :].mean() > 0.9, "the cue band darkens the bottom of the frame"
    assert diff[10:40, 10:150].mean() > 0.5, "the score panel is top-left"
    assert diff[10:80, W - 80 : W - 10].mean() > 0.5, "the head-angle guide is top-right"
    assert not diff[120:240, 420:560].any(), "nothing is drawn away from the face and the panels"


def test_mirrored_outline_is_flipped() -> None:
    image = grey_frame()
    out = Annotator().annotate(image, with_face(), mirrored=True)
    diff = changed(out, grey_frame())
    assert diff[oval_ring_mask(1.0 - OVAL_CX)].mean() > 0.3, "landmark x is flipped to 1 - x"
    assert not diff[oval_ring_mask(OVAL_CX) & ~oval_ring_mask(1.0 - OVAL_CX)][H // 4 :].any()


def test_guide_window_flips_with_the_mirror() -> None:
    target = _Target()
    plain = Annotator().annotate(grey_frame(), with_face(), mirrored=False, target=target)
    mirrored = Annotator().annotate(grey_frame(), with_face(), mirrored=True, target=target)
    x0, y0, size = W - 8 - 74, 8, 74  # the guide's box at 640x360
    g_plain = plain[y0 : y0 + size, x0 : x0 + size]
    g_mirror = mirrored[y0 : y0 + size, x0 : x0 + size]
    green = np.array([110, 210, 90])

    def green_cols(g: np.ndarray) -> np.ndarray:
        return np.nonzero((np.abs(g.astype(int) - green).sum(axis=2) < 60).any(axis=0))[0]

    # yaw +10..+20 in the raw image lies right of centre; a mirror shows it left of centre.
    assert green_cols(g_plain).mean() > size / 2
    assert green_cols(g_mirror).mean() < size / 2


def test_no_face_result_draws_the_move_into_the_frame_cue() -> None:
    annotator = Annotator()
    out = annotator.annotate(grey_frame(), no_face(), mirrored=True)
    explicit = annotator.annotate(grey_frame(), no_face(Cue(NO_FACE_TEXT)), mirrored=True)
    assert changed(out, grey_frame())[H - 40 :, :].any(), "a cue is drawn at the bottom"
    np.testing.assert_array_equal(out, explicit)
    other = annotator.annotate(grey_frame(), no_face(Cue("Something else")), mirrored=True)
    assert changed(out, other)[H - 40 :, :].any(), "the text drawn is the no-face cue, not any text"
    assert not changed(out, grey_frame())[oval_ring_mask(OVAL_CX)].any(), "no outline without a face"


def test_empty_cue_with_face_draws_no_band() -> None:
    out = Annotator().annotate(grey_frame(), with_face(cue=""), mirrored=False)
    assert not changed(out, grey_frame())[H - 10 :, W // 2 - 50 : W // 2 + 50].any()


def test_minimal_detail_draws_no_outline_or_guide() -> None:
    out = Annotator(detail=Detail.MINIMAL).annotate(grey_frame(), with_face(), mirrored=False)
    diff = changed(out, grey_frame())
    assert not diff[oval_ring_mask(OVAL_CX)].any()
    assert not diff[10:80, W - 80 : W - 10].any()
    assert diff[H - 20 :, :].mean() > 0.9


def test_full_detail_draws_more_than_standard() -> None:
    standard = changed(Annotator(detail="standard").annotate(grey_frame(), with_face(), mirrored=False), grey_frame())
    full = changed(Annotator(detail="full").annotate(grey_frame(), with_face(), mirrored=False), grey_frame())
    assert full.sum() > standard.sum()


def test_hold_ring_shows_progress_and_held() -> None:
    annotator = Annotator()
    empty = annotator.annotate(grey_frame(), with_face(hold=HoldState(0.0)), mirrored=False)
    half = annotator.annotate(grey_frame(), with_face(hold=HoldState(0.5)), mirrored=False)
    held = annotator.annotate(grey_frame(), with_face(hold=HoldState(1.0, True, 1, True)), mirrored=False)
    assert changed(empty, half).sum() > 20
    assert changed(half, held).sum() > changed(empty, half).sum()


def test_several_faces_note_and_long_or_typographic_cues() -> None:
    annotator = Annotator()
    one = annotator.annotate(grey_frame(), with_face(), mirrored=False)
    three = annotator.annotate(grey_frame(), with_face(n_faces=3), mirrored=False)
    assert changed(one, three).any(), "several faces are mentioned"
    long_cue = "Forehead forward and a little down, then let the smile reach your eyes and keep it there for me"
    out = annotator.annotate(grey_frame(), with_face(cue=long_cue), mirrored=False)
    assert changed(out, grey_frame())[H - 60 :, :].mean() > 0.9, "a long cue wraps onto a taller band"
    curly = annotator.annotate(grey_frame(), with_face(cue="That\u2019s it \u2014 hold"), mirrored=False)
    ascii_ = annotator.annotate(grey_frame(), with_face(cue="That's it - hold"), mirrored=False)
    np.testing.assert_array_equal(curly, ascii_)


# -- the frame itself ------------------------------------------------------------------------
@pytest.mark.parametrize("channels", [1, 3, 4])
@pytest.mark.parametrize("mirrored", [False, True])
def test_shape_and_dtype_are_kept_and_drawing_is_in_place(channels: int, mirrored: bool) -> None:
    image = grey_frame(channels)
    out = Annotator(detail="full").annotate(image, with_face(), mirrored=mirrored, target=_Target())
    assert out is image
    assert out.shape == grey_frame(channels).shape and out.dtype == np.uint8
    assert changed(out, grey_frame(channels)).any()


def test_read_only_or_strided_frames_are_copied_not_refused() -> None:
    base = grey_frame()
    base.setflags(write=False)
    out = Annotator().annotate(base, with_face(), mirrored=False)
    assert out is not base and out.shape == base.shape and (base == GREY).all()
    strided = np.full((H, W * 2, 3), GREY, np.uint8)[:, ::2]
    out = Annotator().annotate(strided, with_face(), mirrored=False)
    assert out.shape == (H, W, 3) and changed(out, grey_frame()).any()


@pytest.mark.parametrize(
    "image",
    [np.zeros((H, W, 3), np.float32), np.zeros((H, W, 2), np.uint8), np.zeros((10, 10, 3), np.uint8)],
    ids=["float", "two-channels", "tiny"],
)
def test_unusable_frames_are_returned_unchanged(image: np.ndarray) -> None:
    before = image.copy()
    out = Annotator().annotate(image, with_face(), mirrored=False)
    assert out.shape == before.shape and out.dtype == before.dtype
    np.testing.assert_array_equal(out, before)


@pytest.mark.parametrize("size", [(320, 180), (1280, 720), (480, 640)], ids=["small", "hd", "portrait"])
def test_other_frame_sizes(size: tuple[int, int]) -> None:
    w, h = size
    image = np.full((h, w, 3), GREY, np.uint8)
    out = Annotator(detail="full").annotate(image, with_face(), mirrored=True, target=_Target())
    assert out.shape == (h, w, 3)
    assert changed(out, np.full((h, w, 3), GREY, np.uint8))[h - 5 :, :].mean() > 0.9


# -- the calibration band ---------------------------------------------------------------------
def _state(**changes: object):  # noqa: ANN202 - CalibrationState
    from posecoach.calibration import CalibrationState

    base = dict(status="prepare", phase="neutral", title="Neutral face", phase_number=1, n_phases=3, seconds_left=1.4,
                prompt="Get ready: relax your face and look straight into the lens", face_found=True, feedback="",
                feedback_ok=None, attempt=1, progress=0.0)  # fmt: skip
    base.update(changes)
    return CalibrationState(**base)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "changes",
    [
        {},
        {"status": "record", "seconds_left": 2.2, "face_found": False, "progress": 0.2},
        {"status": "prepare", "attempt": 2, "feedback_ok": False,
         "feedback": "Big smile: let's try that again - your smile was not clearly bigger than your neutral face "
                     "(smile 0.31 vs 0.28 at rest): smile as broadly as feels natural and hold it"},
        {"status": "failed", "phase": None, "title": "Calibration failed", "prompt": "Calibration stopped: try again",
         "feedback_ok": False, "feedback": "Neutral face: your head was turned 40\u00b0 away from the camera"},
        {"status": "done", "phase": None, "title": "Calibration done", "progress": 1.0, "feedback_ok": True,
         "prompt": "All set: coaching now follows your own face", "feedback": "Eyes closed: done (30 frames)"},
    ],
)  # fmt: skip
def test_calibration_band_draws_across_the_top_only(changes: dict) -> None:
    from posecoach.overlay import CalibrationBand

    scene = np.full((360, 640, 3), 128, np.uint8)
    out = CalibrationBand().annotate(scene, _state(**changes))
    assert out is scene and out.shape == (360, 640, 3)
    changed_rows = np.flatnonzero((out != 128).any(axis=(1, 2)))
    assert changed_rows.size and changed_rows[0] == 0, "a band from the top edge"
    assert changed_rows[-1] < 140, f"the face stays visible: band ends at row {changed_rows[-1]}"


def test_calibration_band_leaves_odd_frames_alone() -> None:
    from posecoach.overlay import CalibrationBand

    band = CalibrationBand()
    tiny = np.zeros((20, 30, 3), np.uint8)
    assert band.annotate(tiny, _state()) is tiny and not tiny.any()
    gray = np.zeros((360, 640), np.uint8)
    assert band.annotate(gray, _state()) is gray and not gray.any()
