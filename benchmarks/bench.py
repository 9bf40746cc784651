"""How much posecoach costs on top of the bare MediaPipe landmarker, in one run, on the same frames.

    .venv/bin/python benchmarks/bench.py [--clip ../shared/media/single_face.mp4] [--long 20000]

Measures, interleaving the contenders round by round so machine noise hits them alike:

1. the bare FaceLandmarker in VIDEO mode (the floor: BGR->RGB, mp.Image, detect_for_video);
2. the full posecoach loop without and with the overlay drawing;
3. both at 360p, 720p, 1080p and 2160p input (the clip upscaled);
4. memory over a long session (``--long`` frames through a CoachSession, looping the clip).

Prints a table and writes ``benchmarks/results/latest.json``. Not part of the test suite.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from posecoach.detector import DEFAULT_MODEL_PATH, FaceTracker, TrackerMode, _quiet_native_stderr  # noqa: E402
from posecoach.overlay import Annotator  # noqa: E402
from posecoach.pipeline import Pipeline  # noqa: E402
from posecoach.session import CoachSession  # noqa: E402
from posecoach.targets import find_target  # noqa: E402
from posecoach.timing import StageTimer  # noqa: E402

RESOLUTIONS = {"360p": (640, 360), "720p": (1280, 720), "1080p": (1920, 1080), "2160p": (3840, 2160)}
GOALS = {"loop_ratio": 1.10, "overlay_ratio": 1.20, "own_ms": 0.3, "res_ratio": 1.5, "rss_growth_mb": 20.0}


def rss_mb() -> float:
    """Resident set size of this process in MiB (Linux /proc; ru_maxrss elsewhere)."""
    try:
        with open("/proc/self/statm") as f:
            pages = int(f.read().split()[1])
        return pages * os.sysconf("SC_PAGE_SIZE") / 2**20
    except OSError:
        import resource

        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def decode(clip: Path, limit: int) -> list[np.ndarray]:
    cap = cv2.VideoCapture(str(clip))
    frames = []
    while len(frames) < limit:
        ok, frame = cap.read()
        if not ok:
            break
        frames.append(frame)
    cap.release()
    if not frames:
        raise SystemExit(f"{clip}: no frames decoded")
    return frames


class Bare:
    """The floor: MediaPipe's FaceLandmarker with the options posecoach uses, nothing else."""

    def __init__(self) -> None:
        with _quiet_native_stderr(True):
            import mediapipe as mp
            from mediapipe.tasks.python import BaseOptions
            from mediapipe.tasks.python.vision import FaceLandmarker, FaceLandmarkerOptions, RunningMode

            self.mp = mp
            self.lm = FaceLandmarker.create_from_options(
                FaceLandmarkerOptions(
                    base_options=BaseOptions(model_asset_path=str(DEFAULT_MODEL_PATH)),
                    running_mode=RunningMode.VIDEO,
                    num_faces=4,
                    output_face_blendshapes=True,
                    output_facial_transformation_matrixes=True,
                )
            )
        self.ts = 0

    def __call__(self, frame: np.ndarray) -> object:
        self.ts += 33
        rgb = cv2.cvtColor(frame, cv2.COLOR_BGR2RGB)
        return self.lm.detect_for_video(self.mp.Image(image_format=self.mp.ImageFormat.SRGB, data=rgb), self.ts)

    def close(self) -> None:
        self.lm.close()


class Loop:
    """The full posecoach loop on raw frames, optionally drawing the overlay on a mirrored view."""

    def __init__(self, target_name: str, overlay: bool, timer: StageTimer | None = None) -> None:
        self.tracker = FaceTracker(mode=TrackerMode.VIDEO)
        self.pipeline = Pipeline(find_target(target_name), self.tracker, timer=timer)
        self.overlay = Annotator() if overlay else None
        self.timer = timer
        self.ts = 0.0

    def __call__(self, frame: np.ndarray) -> object:
        self.ts += 33.3
        result = self.pipeline.process(frame, self.ts)
        if self.overlay is not None:
            t0 = time.perf_counter()
            view = cv2.flip(frame, 1)
            self.overlay.annotate(view, result, mirrored=True)
            if self.timer is not None:
                self.timer.add("overlay", time.perf_counter() - t0)
        return result

    def close(self) -> None:
        self.tracker.close()


def timed_rounds(contenders: dict[str, object], frames: list[np.ndarray], rounds: int) -> dict[str, float]:
    """Median ms per frame for each contender; each round runs every contender over all frames."""
    per: dict[str, list[float]] = {name: [] for name in contenders}
    for fn in contenders.values():  # warm-up: first frames pay for detection and allocation
        for frame in frames[:10]:
            fn(frame)
    for _ in range(rounds):
        for name, fn in contenders.items():
            gc.collect()
            for frame in frames:
                t0 = time.perf_counter()
                fn(frame)
                per[name].append((time.perf_counter() - t0) * 1000.0)
    return {name: statistics.median(v) for name, v in per.items()}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clip", default=str(ROOT.parent / "shared" / "media" / "single_face.mp4"))
    ap.add_argument("--target", default="corporate_headshot")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--long", type=int, default=20000, help="frames for the memory run (0 to skip)")
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "latest.json"))
    args = ap.parse_args()

    clip = Path(args.clip)
    if not clip.is_file():
        raise SystemExit(f"{clip}: clip not found (pass --clip)")
    base = decode(clip, 72)
    results: dict[str, object] = {
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, {platform.python_implementation()} {platform.python_version()}",
        "clip": clip.name,
        "frames": len(base),
        "rounds": args.rounds,
    }

    # 1-3: bare vs loop vs loop+overlay, per resolution, interleaved.
    table = []
    for label, wh in RESOLUTIONS.items():
        frames = base if wh == base[0].shape[1::-1] else [cv2.resize(f, wh, interpolation=cv2.INTER_CUBIC) for f in base]
        bare, loop, drawn = Bare(), Loop(args.target, False), Loop(args.target, True)
        ms = timed_rounds({"bare": bare, "loop": loop, "loop+overlay": drawn}, frames, args.rounds)
        for c in (bare, loop, drawn):
            c.close()
        row = {
            "input": label,
            "bare_ms": ms["bare"],
            "loop_ms": ms["loop"],
            "overlay_ms": ms["loop+overlay"],
            "loop_ratio": ms["loop"] / ms["bare"],
            "overlay_ratio": ms["loop+overlay"] / ms["bare"],
        }
        table.append(row)
        print(
            f"{label:>6}: bare {row['bare_ms']:6.2f} ms | loop {row['loop_ms']:6.2f} ms ({row['loop_ratio']:.3f}x) | "
            f"loop+overlay {row['overlay_ms']:6.2f} ms ({row['overlay_ratio']:.3f}x)",
            flush=True,
        )
        del frames
    results["resolutions"] = table
    results["res_ratio_2160_vs_360"] = table[-1]["overlay_ms"] / table[0]["overlay_ms"]

    # Per-stage: posecoach's own work (metrics + scoring + cues) and the overlay.
    timer = StageTimer()
    staged = Loop(args.target, True, timer)
    for _ in range(args.rounds):
        for frame in base:
            staged(frame)
    staged.close()
    stages = {s.stage: {"median_ms": s.median_ms, "p95_ms": s.p95_ms} for s in timer.stats()}
    results["stages_360p"] = stages

    # 4: memory over a long session.
    if args.long:
        tracker = FaceTracker(mode=TrackerMode.VIDEO)
        session = CoachSession(Pipeline(find_target(args.target), tracker))
        annotator = Annotator()
        t_ms = 0.0
        for i in range(300):  # let allocators and caches settle before the first reading
            t_ms += 33.3
            session.process(base[i % len(base)], t_ms)
        gc.collect()
        start = rss_mb()
        t0 = time.perf_counter()
        for i in range(args.long):
            t_ms += 33.3
            result = session.process(base[i % len(base)], t_ms)
            if result is not None:
                annotator.annotate(cv2.flip(base[i % len(base)], 1), result, mirrored=True)
        elapsed = time.perf_counter() - t0
        gc.collect()
        end = rss_mb()
        tracker.close()
        results["long_run"] = {"frames": args.long, "rss_start_mb": start, "rss_end_mb": end,
                               "rss_growth_mb": end - start, "fps": args.long / elapsed}

    own = stages.get("coach", {}).get("median_ms", float("nan"))
    checks = {
        "loop / bare <= 1.10 (360p)": table[0]["loop_ratio"] <= GOALS["loop_ratio"],
        "loop+overlay / bare <= 1.20 (360p)": table[0]["overlay_ratio"] <= GOALS["overlay_ratio"],
        "own work <= 0.3 ms median": own <= GOALS["own_ms"],
        "2160p within 1.5x of 360p": results["res_ratio_2160_vs_360"] <= GOALS["res_ratio"],
    }
    if "long_run" in results:
        checks["RSS growth < 20 MB"] = results["long_run"]["rss_growth_mb"] < GOALS["rss_growth_mb"]
    results["goals_met"] = checks

    print("\nstage (360p, loop+overlay)    median ms   p95 ms")
    for name, s in stages.items():
        print(f"  {name:<26} {s['median_ms']:9.3f} {s['p95_ms']:8.3f}")
    print(f"2160p / 360p (loop+overlay): {results['res_ratio_2160_vs_360']:.2f}x")
    if "long_run" in results:
        lr = results["long_run"]
        print(f"long run: {lr['frames']} frames at {lr['fps']:.0f} fps, RSS {lr['rss_start_mb']:.1f} -> "
              f"{lr['rss_end_mb']:.1f} MiB ({lr['rss_growth_mb']:+.1f})")
    for name, ok in checks.items():
        print(f"  [{'ok' if ok else 'MISSED'}] {name}")
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2) + "\n")
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
