"""The labelled corpus the readings are measured on: GENKI-4K training crops and the clip labels.

Used by ``benchmarks/truth.py`` (the truth harness), ``benchmarks/fit_readings.py`` (the fit)
and ``tests/test_truth.py``. Nothing here is part of the package.

**How small crops are prepared.** The GENKI crops are 64x64 with the face filling most of
the frame; MediaPipe's face detector needs context around a face. Each crop is upscaled
``scale`` times with bicubic interpolation and given a mid-grey border of a quarter of its
size on every side (:func:`prepare_crop`); at ``scale`` 4 that is a 384x384 image with a
~180 px face, about what a 720p webcam gives a person at arm's length. On 280 crops (every
10th) the detector found 261 faces this way, 257-259 with a replicated or mirrored border or
none at all, and 258 at 2x and 8x: the preparation does not decide what is found.

**The tracker cache.** :func:`track_genki` runs the real tracker (``FaceTracker``, IMAGE mode)
on every crop and keeps what the readings use: landmarks, blendshapes, matrix. The result is
cached in ``benchmarks/results/`` (git-ignored), keyed on the model's sha256 and the
preparation, so fitting iterations take seconds; ``fresh=True`` (``truth.py --fresh``) runs the
tracker again.

GENKI-4K: http://mplab.ucsd.edu, The MPLab GENKI-4K Dataset.
"""

from __future__ import annotations

import csv
import hashlib
import json
import sys
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from posecoach.detector import FaceTracker, TrackerMode  # noqa: E402
from posecoach.model_file import MODEL_SHA256  # noqa: E402
from posecoach.native import native_stderr_silenced  # noqa: E402
from posecoach.results import FaceFrame  # noqa: E402

MEDIA = ROOT.parent / "shared" / "media"
GENKI = MEDIA / "genki4k_train"
CACHE = ROOT / "benchmarks" / "results"
BORDER = 0.25  # border on each side, as a fraction of the upscaled crop
BORDER_BGR = (128, 128, 128)


def prepare_crop(crop_bgr: np.ndarray, scale: float = 4.0, border: float = BORDER) -> np.ndarray:
    """A small face crop made detectable: bicubic upscale by ``scale``, then a grey border."""
    big = cv2.resize(crop_bgr, None, fx=scale, fy=scale, interpolation=cv2.INTER_CUBIC)
    b = int(round(border * big.shape[0]))
    return cv2.copyMakeBorder(big, b, b, b, b, cv2.BORDER_CONSTANT, value=BORDER_BGR)


@dataclass(frozen=True)
class Genki:
    """The GENKI-4K training crops as the tracker saw them.

    Attributes:
        files: file names, in ``labels.csv`` order.
        smile: 1 smiling, 0 not (the dataset's labels).
        pose_rad: ``(N, 3)`` the dataset's yaw, pitch, roll labels in radians (its own signs).
        found: the tracker found a face.
        landmarks, blendshapes, matrix: the tracker's output (zeros where nothing was found).
        image_wh: the prepared image's size.
    """

    files: tuple[str, ...]
    smile: np.ndarray
    pose_rad: np.ndarray
    found: np.ndarray
    landmarks: np.ndarray
    blendshapes: np.ndarray
    matrix: np.ndarray
    image_wh: tuple[int, int]

    def face(self, i: int) -> FaceFrame:
        """Face ``i`` as a :class:`FaceFrame` (``FaceFrame.empty`` where none was found)."""
        if not self.found[i]:
            return FaceFrame.empty(self.image_wh)
        return FaceFrame(self.landmarks[i], self.blendshapes[i], self.matrix[i], self.image_wh, 1, 0)

    def subset(self, idx: np.ndarray) -> Genki:
        return Genki(
            tuple(self.files[i] for i in idx), self.smile[idx], self.pose_rad[idx], self.found[idx],
            self.landmarks[idx], self.blendshapes[idx], self.matrix[idx], self.image_wh,
        )  # fmt: skip


def genki_labels(root: Path = GENKI) -> tuple[list[str], np.ndarray, np.ndarray]:
    """``(files, smile 0/1, pose (N, 3) radians)`` from ``labels.csv``."""
    with (root / "labels.csv").open(newline="") as f:
        rows = list(csv.DictReader(f))
    files = [r["file"] for r in rows]
    smile = np.array([int(r["smile"]) for r in rows], np.int8)
    pose = np.array([[float(r["yaw_rad"]), float(r["pitch_rad"]), float(r["roll_rad"])] for r in rows])
    return files, smile, pose


def read_crop(name: str, root: Path = GENKI) -> np.ndarray:
    img = cv2.imread(str(root / name), cv2.IMREAD_COLOR)
    if img is None:
        raise FileNotFoundError(f"{root / name}: not a readable image")
    return img


def track_images(images: list[np.ndarray], tracker: FaceTracker) -> list[FaceFrame]:
    """One IMAGE-mode observation per image."""
    return [tracker.process(img) for img in images]


def track_genki(
    scale: float = 4.0,
    *,
    every: int = 1,
    flip: bool = False,
    fresh: bool = False,
    root: Path = GENKI,
    verbose: bool = True,
) -> Genki:
    """Every ``every``-th GENKI crop through the real tracker (cached, see the module doc).

    ``flip``: mirror each crop first (a mirrored face is another real face: checks that a
    reading does not depend on which way a face is turned).
    """
    files, smile, pose = genki_labels(root)
    idx = np.arange(0, len(files), every)
    key = hashlib.sha256(
        json.dumps([MODEL_SHA256, scale, BORDER, BORDER_BGR, files[::every], "v1"]).encode()
    ).hexdigest()[:16]
    path = CACHE / f"genki_x{scale:g}_every{every}{'_flip' if flip else ''}_{key}.npz"
    if path.exists() and not fresh:
        z = np.load(path)
        wh = tuple(int(v) for v in z["image_wh"])
        return Genki(tuple(files[i] for i in idx), smile[idx], pose[idx], z["found"], z["landmarks"],
                     z["blendshapes"], z["matrix"], wh)  # fmt: skip
    n = len(idx)
    landmarks = np.zeros((n, 478, 3), np.float32)
    blend = np.zeros((n, 52), np.float32)
    matrix = np.zeros((n, 4, 4), np.float32)
    found = np.zeros(n, bool)
    wh = (0, 0)
    with native_stderr_silenced(True), FaceTracker(mode=TrackerMode.IMAGE) as tracker:
        for k, i in enumerate(idx):
            crop = read_crop(files[i], root)
            img = prepare_crop(cv2.flip(crop, 1) if flip else crop, scale)
            wh = (img.shape[1], img.shape[0])
            f = tracker.process(img)
            if f.has_face:
                found[k], landmarks[k], blend[k], matrix[k] = True, f.landmarks, f.blendshapes, f.matrix
            if verbose and (k + 1) % 500 == 0:
                print(f"  genki x{scale:g}: {k + 1}/{n}", file=sys.stderr, flush=True)
    CACHE.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp.npz")
    np.savez_compressed(tmp, found=found, landmarks=landmarks, blendshapes=blend, matrix=matrix,
                        image_wh=np.array(wh))  # fmt: skip
    tmp.replace(path)
    return Genki(tuple(files[i] for i in idx), smile[idx], pose[idx], found, landmarks, blend, matrix, wh)


def media_labels() -> dict:
    """``labels.json``'s per-file labels (see its ``schema``)."""
    return json.loads((MEDIA / "labels.json").read_text())["media"]


def label_frames(labels: dict, clip: str, field: str, values: set) -> list[int]:
    """Frame indices of ``clip`` whose label ``field`` is one of ``values``."""
    out: list[int] = []
    for seg in labels[clip]["segments"]:
        if seg.get(field) in values:
            out.extend(range(seg["frames"][0], seg["frames"][1] + 1))
    return out


def track_clip(name: str) -> list[FaceFrame]:
    """Every frame of a clip through a fresh VIDEO-mode tracker, timestamps from its fps."""
    cap = cv2.VideoCapture(str(MEDIA / name))
    fps = cap.get(cv2.CAP_PROP_FPS) or 30.0
    out = []
    with native_stderr_silenced(True), FaceTracker(mode=TrackerMode.VIDEO) as tracker:
        i = 0
        while True:
            ok, frame = cap.read()
            if not ok:
                break
            out.append(tracker.process(frame, i * 1000.0 / fps))
            i += 1
    cap.release()
    return out


def clip_frames(name: str) -> list[np.ndarray]:
    """Every decoded frame of a clip (BGR), in sequential decode order."""
    cap = cv2.VideoCapture(str(MEDIA / name))
    frames = []
    while True:
        ok, frame = cap.read()
        if not ok:
            break
        frames.append(frame)
    cap.release()
    return frames


def cover(image_bgr: np.ndarray, face: FaceFrame, part: str) -> np.ndarray:
    """A synthetic hand over the ``"mouth"`` or the ``"eyes"`` of a real face: the face's own
    forehead skin, with soft finger creases, filling an ellipse over the part."""
    h, w = image_bgr.shape[:2]
    p = face.landmarks[:, :2] * (w, h)
    if part == "mouth":
        c = p[[61, 291, 0, 17]].mean(axis=0)
        rx = 0.75 * float(np.linalg.norm(p[61] - p[291]))
        ry = 0.5 * rx
    else:
        c = p[[33, 263]].mean(axis=0)
        rx = 0.6 * float(np.linalg.norm(p[33] - p[263]))
        ry = 0.25 * rx
    fx, fy = p[[151, 9, 108, 337]].mean(axis=0).astype(int)
    s = max(3, int(0.02 * w))
    skin = image_bgr[max(0, fy - s) : fy + s, max(0, fx - s) : fx + s].reshape(-1, 3).mean(axis=0)
    yy, xx = np.mgrid[0:h, 0:w]
    inside = ((xx - c[0]) / rx) ** 2 + ((yy - c[1]) / ry) ** 2 < 1.0
    shade = 0.85 + 0.15 * np.cos((yy - c[1]) / (ry / 2.2) * np.pi)
    out = image_bgr.copy()
    out[inside] = np.clip(skin[None, :] * shade[inside][:, None], 0, 255).astype(np.uint8)
    return out


_EYE_RINGS = (
    ((33, 7, 163, 144, 145, 153, 154, 155, 133, 173, 157, 158, 159, 160, 161, 246), range(468, 473), (33, 133)),
    ((362, 382, 381, 380, 374, 373, 390, 249, 263, 466, 388, 387, 386, 385, 384, 398), range(473, 478), (362, 263)),
)


def shift_irises(image_bgr: np.ndarray, face: FaceFrame, eye_widths: float) -> np.ndarray:
    """A synthetic gaze edit of a real face: both irises moved along the eye line by
    ``eye_widths`` (> 0 toward the image's right), in the pixels.

    Inside each eye opening (the lid contour), the sclera's colour fills everything and the
    face's own iris disk is pasted back at the new place, clipped by the lids. With the iris
    centre ~10.5 mm in front of the eye's centre of rotation and a ~30 mm wide eye, 0.15 eye
    widths is about a 25 degree turn of the eyes, 0.2 about 35."""
    h, w = image_bgr.shape[:2]
    p = face.landmarks[:, :2] * (w, h)
    out = image_bgr.astype(np.float32)
    yy, xx = np.mgrid[0:h, 0:w]
    for ring, iris, (a, b) in _EYE_RINGS:
        width = float(np.linalg.norm(p[b] - p[a]))
        axis = (p[b] - p[a]) / width
        c = p[iris[0]]
        rad = float(np.mean(np.linalg.norm(p[list(iris)[1:]] - c, axis=1)))
        mask = np.zeros((h, w), np.uint8)
        cv2.fillPoly(mask, [np.round(p[list(ring)]).astype(np.int32)], 255)
        inside = mask > 0
        sel = image_bgr[inside & (((xx - c[0]) ** 2 + (yy - c[1]) ** 2) > (1.3 * rad) ** 2)]
        sel = sel if len(sel) >= 5 else image_bgr[inside]
        lum = sel.mean(axis=1)
        sclera = np.median(sel[lum >= np.percentile(lum, 60)], axis=0)
        r2 = int(np.ceil(rad * 1.15))
        x0, y0 = int(round(c[0])) - r2, int(round(c[1])) - r2
        patch = image_bgr[y0 : y0 + 2 * r2 + 1, x0 : x0 + 2 * r2 + 1].astype(np.float32)
        disk = (np.hypot(*np.mgrid[-r2 : r2 + 1, -r2 : r2 + 1]) <= rad * 1.08).astype(np.float32)
        disk = cv2.GaussianBlur(disk, (0, 0), max(0.5, rad * 0.08))
        shift = axis * eye_widths * width
        move = np.float32([[1, 0, x0 + shift[0]], [0, 1, y0 + shift[1]]])
        iris_px = cv2.warpAffine(patch, move, (w, h), flags=cv2.INTER_LINEAR)
        alpha = cv2.warpAffine(disk, move, (w, h), flags=cv2.INTER_LINEAR)[..., None]
        eye = sclera[None, None, :].astype(np.float32) * (1.0 - alpha) + iris_px * alpha
        m = cv2.GaussianBlur(mask.astype(np.float32) / 255.0, (0, 0), 0.6)[..., None]
        out = out * (1.0 - m) + eye * m
    return np.clip(out, 0, 255).astype(np.uint8)
