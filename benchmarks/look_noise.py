"""The noise figures behind targets from photos (posecoach/looks.py SPREAD) and the best-side
check (posecoach/bestside.py MIRROR_NOISE), measured on real faces.

    .venv/bin/python benchmarks/look_noise.py            # photo + live noise (about 1 minute)
    .venv/bin/python benchmarks/look_noise.py --mirror   # MediaPipe's left-right disagreement

* photo: GENKI-4K training faces (prepared as corpus.prepare_crop does), each in perturbed
  copies (scale 0.7-1.3, rotation +-4 degrees subtracted from roll, shift +-4 %, brightness
  x0.8-1.2 +-20, Gaussian noise sd 3, JPEG quality 55-95): the root mean square (and the
  median) over faces of each metric's standard deviation; the three full-size photos of
  ../shared/media the same way.
* live: single_face.mp4 in VIDEO mode, each metric's standard deviation over the steady
  segments (frames 2-17 relaxed, 32-68 a held broad smile).
* --mirror: GENKI-4K faces turned 10-45 degrees (labelled) and read turned 8 degrees or more:
  each best-side feature of the face minus the same feature of its mirror image (which shows
  the other side of a perfectly symmetric face): root mean square and median of |difference|.

Needs ../shared/media (not in the repository). Prints; writes nothing.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from corpus import GENKI, MEDIA, clip_frames, genki_labels, prepare_crop, read_crop  # noqa: E402

from posecoach.bestside import sample  # noqa: E402
from posecoach.looks import LOOK_METRICS  # noqa: E402
from posecoach.metrics import compute_metrics, plausible_geometry  # noqa: E402
from posecoach.runs import CoachSettings, open_tracker, run_photo  # noqa: E402
from posecoach.targets import MetricRange, Target  # noqa: E402

PROBE = Target("probe", "Probe", "", (MetricRange("smile", 0.0, 1.0, 0.1),))


def values(face) -> np.ndarray | None:  # noqa: ANN001
    g = plausible_geometry(face)
    if g is None:
        return None
    m = compute_metrics(face, g)
    return np.array([m.value(k) for k in LOOK_METRICS])


def perturb(image: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, float]:
    h, w = image.shape[:2]
    angle = rng.uniform(-4, 4)
    m = cv2.getRotationMatrix2D((w / 2, h / 2), angle, rng.uniform(0.7, 1.3))
    m[:, 2] += rng.uniform(-0.04, 0.04, 2) * w
    out = cv2.warpAffine(image, m, (w, h), borderMode=cv2.BORDER_REFLECT).astype(np.float32)
    out = np.clip(out * rng.uniform(0.8, 1.2) + rng.uniform(-20, 20) + rng.normal(0, 3, out.shape), 0, 255)
    ok, buf = cv2.imencode(".jpg", out.astype(np.uint8), [cv2.IMWRITE_JPEG_QUALITY, int(rng.integers(55, 95))])
    return cv2.imdecode(buf, cv2.IMREAD_COLOR), angle  # cv2's positive angle turns the face counter-clockwise: roll +


def spread(tracker, images: list[np.ndarray], copies: int, rng: np.random.Generator) -> np.ndarray:  # noqa: ANN001
    """Per image with a face: each metric's standard deviation over its perturbed copies."""
    roll = LOOK_METRICS.index("roll")
    out = []
    for image in images:
        if values(tracker.process(image)) is None:
            continue
        rows = []
        for _ in range(copies):
            copy, angle = perturb(image, rng)
            v = values(tracker.process(copy))
            if v is not None:
                v[roll] -= angle
                rows.append(v)
        if len(rows) >= copies * 2 // 3:
            out.append(np.std(rows, axis=0, ddof=1))
    return np.array(out)


def show(title: str, sds: np.ndarray) -> None:
    print(f"{title} ({len(sds)} faces)")
    print("  rms   ", "  ".join(f"{k} {v:.3f}" for k, v in zip(LOOK_METRICS, np.sqrt(np.mean(sds**2, axis=0)))))
    print("  median", "  ".join(f"{k} {v:.3f}" for k, v in zip(LOOK_METRICS, np.median(sds, axis=0))))


def photo_and_live(n_faces: int) -> None:
    rng = np.random.default_rng(1)
    names, _smile, _pose = genki_labels()
    order = rng.permutation(len(names))
    with open_tracker(still=True) as tracker:
        crops = [prepare_crop(read_crop(names[i])) for i in order[: int(n_faces * 1.2)]]
        show("photo: GENKI-4K crops, 12 perturbed copies each", spread(tracker, crops, 12, rng)[:n_faces])
        photos = [cv2.imread(str(MEDIA / n)) for n in ("0-f15-hao-ph.jpg", "0-f1-su-ph.jpg", "single_face.jpg")]
        show("photo: the three full-size photos, 40 copies each", spread(tracker, photos, 40, rng))
    frames = clip_frames("single_face.mp4")
    with open_tracker() as tracker:
        vals = [values(tracker.process(f, i * 1000.0 / 30.0)) for i, f in enumerate(frames)]
    for label, span in (("relaxed 2-17", range(2, 18)), ("smile 32-68", range(32, 69))):
        sd = np.std([vals[i] for i in span], axis=0, ddof=1)
        print(f"live: single_face.mp4 {label}  " + "  ".join(f"{k} {v:.3f}" for k, v in zip(LOOK_METRICS, sd)))


def mirror(limit: int) -> None:
    names, _smile, pose = genki_labels()
    turned = [n for n, p in zip(names, pose) if 10 <= abs(np.degrees(p[0])) <= 45][:limit]
    diffs = []
    with open_tracker(still=True) as tracker:
        for name in turned:
            image = prepare_crop(read_crop(name))
            a = sample(run_photo(image, tracker, PROBE, CoachSettings(PROBE.name)).result)
            b = sample(run_photo(cv2.flip(image, 1), tracker, PROBE, CoachSettings(PROBE.name)).result)
            if a is None or b is None or abs(a.yaw) < 8:
                continue
            diffs.append([a.eye_open - b.eye_open, a.eye_asymmetry - b.eye_asymmetry,
                          a.near_smile - b.near_smile, a.jaw_angle - b.jaw_angle])  # fmt: skip
    d = np.array(diffs)
    names_ = ("eye_open", "eye_asymmetry", "near_smile", "jaw_angle")
    print(f"mirror disagreement over {len(d)} turned GENKI-4K faces (of {len(turned)} tried)")
    print("  rms        ", "  ".join(f"{k} {v:.3f}" for k, v in zip(names_, np.sqrt(np.mean(d**2, axis=0)))))
    print("  median |d| ", "  ".join(f"{k} {v:.3f}" for k, v in zip(names_, np.median(np.abs(d), axis=0))))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--mirror", action="store_true", help="the best-side noise floor instead")
    p.add_argument("--faces", type=int, default=40, help="GENKI-4K faces to use (default 40; --mirror tries 5x)")
    args = p.parse_args()
    if not GENKI.is_dir():
        raise SystemExit(f"needs {GENKI} (../shared/media)")
    if args.mirror:
        mirror(args.faces * 5)
    else:
        photo_and_live(args.faces)


if __name__ == "__main__":
    main()
