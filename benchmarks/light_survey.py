"""The light readings on real faces: GENKI-4K crops and the shared photos, as shot and under synthetic light.

One side darkened, the background brightened, the whole frame darkened.

    .venv/bin/python benchmarks/light_survey.py [--every 4]

Prints percentiles of each reading on the GENKI faces the tracker finds and how many of them
each verdict takes, then every shared photo before and after each edit. The thresholds in
posecoach/lighting.py are checked against these figures (see the README, "Light and the room").
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from benchmarks.corpus import GENKI, MEDIA, prepare_crop, read_crop, track_genki  # noqa: E402
from light_edits import brighten_background, darken_side, scale_light  # noqa: E402
from posecoach.detector import FaceTracker, TrackerMode  # noqa: E402
from posecoach.lighting import classify, read_light  # noqa: E402
from posecoach.native import native_stderr_silenced  # noqa: E402

FIELDS = ("face_luma", "light_ratio_stops", "light_balance_stops", "top_bottom_stops", "shadows_clipped",
          "highlights_clipped", "backlight_stops", "background_clipped", "cast_chroma")  # fmt: skip
PHOTOS = ("single_face.jpg", "0-f15-hao-ph.jpg", "0-f1-su-ph.jpg")


def line(name: str, r) -> str:  # noqa: ANN001
    if r is None:
        return f"  {name:<34} no reading"
    return (f"  {name:<34} luma {r.face_luma:5.1f}  ratio {r.light_ratio_stops:4.2f} st (bal {r.light_balance_stops:+.2f})  "
            f"top/bottom {r.top_bottom_stops:+.2f}  backlight {r.backlight_stops:+.2f} ({r.background_clipped:.2f} clipped)  "
            f"clip {r.shadows_clipped:.2f}/{r.highlights_clipped:.2f}  cast {r.cast_chroma:4.1f}{r.cast[:1]}  "
            f"-> {classify(r).value}")  # fmt: skip


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--every", type=int, default=4, help="every N-th GENKI crop (default 4)")
    args = ap.parse_args()
    genki = track_genki(4.0, every=args.every)
    readings = []
    for i, name in enumerate(genki.files):
        if genki.found[i]:
            img = prepare_crop(read_crop(name, GENKI), 4.0)
            readings.append(read_light(img, genki.face(i)))
    readings = [r for r in readings if r is not None]
    print(f"GENKI-4K train, every {args.every}th crop: {len(readings)} faces read of {len(genki.files)} crops")
    print("  (the crops are tight with a grey border: backlight there reads the border, not a room)")
    print(f"  {'reading':<22} {'p1':>7} {'p5':>7} {'p50':>7} {'p95':>7} {'p99':>7}")
    for f in FIELDS:
        v = np.array([getattr(r, f) for r in readings], float)
        v = v[np.isfinite(v)]
        q = np.percentile(v, [1, 5, 50, 95, 99])
        print(f"  {f:<22} " + " ".join(f"{x:7.2f}" for x in q))
    verdicts = Counter(classify(r).value for r in readings)
    print("  verdicts: " + ", ".join(f"{k} {v} ({100 * v / len(readings):.1f} %)" for k, v in verdicts.most_common()))
    print("  ratio > 1 stop: {:.1f} %, > 2 stops: {:.1f} %".format(
        100 * np.mean([r.light_ratio_stops > 1 for r in readings]), 100 * np.mean([r.light_ratio_stops > 2 for r in readings])))
    print("  top/bottom <= -0.5: {:.1f} %".format(100 * np.mean([r.top_bottom_stops <= -0.5 for r in readings])))

    print("shared photos, before and after synthetic light (the unedited frame's landmarks):")
    with native_stderr_silenced(True), FaceTracker(mode=TrackerMode.IMAGE) as tracker:
        for name in PHOTOS:
            img = cv2.imread(str(MEDIA / name))
            face = tracker.process(img)
            print(f" {name}")
            print(line("as shot", read_light(img, face)))
            for label, edited in (
                ("subject's left darkened 2 stops", darken_side(img, face, 2.0, "image_right")),
                ("subject's left darkened 3 stops", darken_side(img, face, 3.0, "image_right")),
                ("subject's right darkened 3 stops", darken_side(img, face, 3.0, "image_left")),
                ("background +2.5 stops", brighten_background(img, face, 2.5)),
                ("whole frame -4 stops", scale_light(img, -4.0)),
            ):
                again = tracker.process(edited)
                found = "tracked" if again.has_face else "NOT tracked"
                print(line(f"{label} ({found})", read_light(edited, face)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
