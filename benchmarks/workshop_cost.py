"""What workshop mode (``--faces N``) costs against the bare MediaPipe landmarker, on the same frames.

    .venv/bin/python benchmarks/workshop_cost.py    # about half a minute

The frames are the test clip of four real faces gliding over a 1280x720 background
(``tests/room_media.py``; one face hidden for 5 frames), rendered once in memory and played
forward then backward. Contenders, interleaved frame by frame in rotating order so that noise
from other processes hits them alike:

1. the floor: MediaPipe's FaceLandmarker in VIDEO mode finding up to N faces in the whole frame
   (what ``--faces`` would cost without tiles), and how many faces it finds;
2. workshop mode: :class:`posecoach.workshop.Workshop` (tiles every 10th frame, crops around the
   faces it lost, one coaching pipeline per face).

Prints median and p95 ms per frame, the ratio of medians and the faces found per frame.
Not part of the test suite: machines differ.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))  # the clip of several faces the workshop tests use

from room_media import write_room_clip  # noqa: E402

from benchmarks.corpus import clip_frames  # noqa: E402
from benchmarks.measure import Bare  # noqa: E402

from posecoach.runs import CoachSettings, open_tracker  # noqa: E402
from posecoach.targets import find_target  # noqa: E402
from posecoach.workshop import Workshop  # noqa: E402

MEDIA = ROOT.parent / "shared" / "media"


def _frames(n: int) -> list[np.ndarray]:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "room.avi"
        write_room_clip(MEDIA, path, n_frames=n)
        out = clip_frames(str(path))  # an absolute path: MEDIA / path is path
    return out + out[-2:0:-1]  # ping-pong: the faces never jump


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--faces", type=int, default=4, help="N of --faces (default 4: the clip has four people)")
    ap.add_argument("--frames", type=int, default=45, help="frames of the clip before ping-pong (default 45)")
    ap.add_argument("--rounds", type=int, default=3, help="times through the clip (default 3)")
    args = ap.parse_args()
    if not MEDIA.is_dir():
        sys.exit(f"workshop_cost: needs the shared media in {MEDIA}")
    frames = _frames(args.frames)
    bare = Bare(args.faces)
    tracker = open_tracker(still=True, max_faces=args.faces)
    workshop = Workshop(find_target("corporate_headshot"), CoachSettings("corporate_headshot"), tracker, args.faces)
    times: dict[str, list[float]] = {"bare": [], "workshop": []}
    found: dict[str, list[int]] = {"bare": [], "workshop": []}
    t_ms = 0
    for i in range(args.rounds * len(frames)):
        frame = frames[i % len(frames)]
        t_ms += 66
        order = ("bare", "workshop") if i % 2 == 0 else ("workshop", "bare")
        for name in order:
            t0 = time.perf_counter()
            if name == "bare":
                n = len(bare(frame).face_landmarks)
            else:
                n = len(workshop.process(frame, float(t_ms)).faces)
            times[name].append((time.perf_counter() - t0) * 1000.0)
            found[name].append(n)
    tracker.close()
    bare.close()
    med = {k: float(np.median(v)) for k, v in times.items()}
    print(f"{len(times['bare'])} frames of 1280x720, four real faces, --faces {args.faces}")
    print(f"{'contender':<34} {'median ms':>10} {'p95 ms':>8} {'faces/frame':>12}")
    for name, label in (("bare", "bare landmarker, whole frame"), ("workshop", "workshop mode (tiles, ids, coach)")):
        print(f"{label:<34} {med[name]:>10.1f} {np.percentile(times[name], 95):>8.1f} {np.mean(found[name]):>12.2f}")
    print(f"workshop / bare (medians): {med['workshop'] / med['bare']:.2f}x")


if __name__ == "__main__":
    main()
