"""What posecoach costs on top of the bare MediaPipe landmarker, measured in one run on the same frames.

    .venv/bin/python benchmarks/bench.py           # everything below, about 8 minutes
    .venv/bin/python benchmarks/bench.py --soak    # the 30-minute soak at 4K: 54,000 frames, about 12 minutes

What it measures (see benchmarks/README.md):

1. the floor: MediaPipe's FaceLandmarker in VIDEO mode with posecoach's options (4 faces,
   blendshapes, matrices), fed the frame the way a user would (BGR->RGB, ``mp.Image``,
   ``detect_for_video``);
2. the full posecoach loop (``Pipeline.process``) without and with the overlay (mirror flip
   + ``Annotator.annotate``, as the live page draws it);
3. both at 360p, 720p, 1080p and 2160p input (the clip upscaled), with per-stage timings;
4. the live page's ``video_frame_callback`` (``posecoach.live.LiveCoach``) on
   yuv420p ``av.VideoFrame`` s, its cost per frame and how many frames it drops when a
   30 fps camera feeds it the way streamlit-webrtc does (newest frame wins);
5. memory over a long session (``--long`` frames through a ``CoachSession`` plus the
   overlay, looping the clip): RSS at start and end, sampled along the way.

Contenders are interleaved frame by frame (in rotating order) so that noise from other
processes on a shared machine hits them alike; every number is a median (p95 beside it).
The clip is played forward then backward (ping-pong) so the face never jumps when it
loops and MediaPipe keeps tracking, as with a live camera.

Prints a table and writes ``benchmarks/results/latest.json`` (``soak.json`` for ``--soak``).
Not part of the test suite: machines differ, so nothing here passes or fails a build.

The machine, the frames, the contenders and how they are timed live in ``benchmarks/measure.py``;
this file runs them, the memory run, checks the goals and prints the report.
"""

from __future__ import annotations

import argparse
import gc
import json
import logging
import os
import resource
import sys
import time
from pathlib import Path
from typing import Any, Callable

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.measure import (  # noqa: E402
    FRAME_MS,
    Bare,
    Loop,
    av_frames,
    decode,
    interleaved,
    live_coach,
    live_drops,
    machine,
    ping_pong,
    rss_mb,
    summary,
)
from posecoach.detector import DEFAULT_MAX_SIDE, FaceTracker, TrackerMode  # noqa: E402
from posecoach.native import native_stderr_silenced  # noqa: E402
from posecoach.overlay import Annotator  # noqa: E402
from posecoach.pipeline import Pipeline  # noqa: E402
from posecoach.session import CoachSession  # noqa: E402
from posecoach.targets import Target, find_target  # noqa: E402

RESOLUTIONS = {"360p": (640, 360), "720p": (1280, 720), "1080p": (1920, 1080), "2160p": (3840, 2160)}
GOALS = {"loop_ratio": 1.10, "overlay_ratio": 1.20, "own_ms": 0.3, "res_ratio": 1.5, "rss_growth_mb": 20.0}
SOAK_FRAMES = 54_000  # 30 minutes at 30 fps
OWN_STAGE = "metrics+scoring+cues"


# -- memory over a long session ---------------------------------------------------------------
class _Count(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.count = 0
        self.first = ""

    def emit(self, record: logging.LogRecord) -> None:
        self.count += 1
        self.first = self.first or record.getMessage()


def memory_run(
    frames: list[np.ndarray], order: list[int], n_frames: int, target: Target, *, overlay: bool, warmup: int = 300
) -> dict[str, Any]:
    """``n_frames`` frames through one CoachSession (and the overlay), looping the clip.

    RSS is read after ``warmup`` frames (allocators and caches settled) and every 1000
    frames after that. Also counts frames the session could not process, exceptions and
    logged warnings: a soak passes with none of them.
    """
    warnings = _Count()
    logging.getLogger().addHandler(warnings)
    with native_stderr_silenced(True):
        tracker = FaceTracker(mode=TrackerMode.VIDEO)
    session = CoachSession(Pipeline(target, tracker))
    annotator = Annotator() if overlay else None
    t_ms = 0.0
    failed = exceptions = faces = 0
    first_error = ""

    def step(n: int) -> None:
        nonlocal t_ms, failed, exceptions, faces, first_error
        frame = frames[order[n % len(order)]]
        t_ms += FRAME_MS
        try:
            result = session.process(frame, t_ms)
            if result is None:
                failed += 1
                return
            faces += result.has_face
            if annotator is not None:
                annotator.annotate(cv2.flip(frame, 1), result, mirrored=True, target=target)
        except Exception as e:  # noqa: BLE001 - counted: a soak must have none
            exceptions += 1
            first_error = first_error or f"{type(e).__name__}: {e}"

    def gallery_mb() -> float:
        return sum(c.nbytes for c in session.captures) / 2**20

    try:
        for n in range(warmup):
            step(n)
        gc.collect()
        start = rss_mb()
        gallery_start = gallery_mb()
        samples = [(0, round(start, 1))]
        t0 = time.perf_counter()
        for n in range(n_frames):
            step(warmup + n)
            if (n + 1) % 1000 == 0:
                samples.append((n + 1, round(rss_mb(), 1)))
                if sys.stderr.isatty():
                    print(f"\r  memory run: {n + 1}/{n_frames} frames, RSS {samples[-1][1]:.1f} MiB", end="",
                          file=sys.stderr, flush=True)  # fmt: skip
        elapsed = time.perf_counter() - t0
        gc.collect()
        end = rss_mb()
        if sys.stderr.isatty():
            print(file=sys.stderr)
    finally:
        tracker.close()
        logging.getLogger().removeHandler(warnings)
    snap = session.snapshot()
    gallery = gallery_mb()
    half = [mb for n, mb in samples if n >= n_frames // 2]
    return {
        "frames": n_frames,
        "overlay": overlay,
        "session_minutes_at_30fps": round(n_frames / 30.0 / 60.0, 1),
        "wall_s": round(elapsed, 1),
        "fps": n_frames / elapsed,
        "rss_start_mb": start,
        "rss_end_mb": end,
        "rss_growth_mb": end - start,
        # Captures are the newest ``max_captures`` best frames within the gallery's byte budget.
        "rss_growth_beyond_gallery_mb": (end - start) - (gallery - gallery_start),
        "rss_growth_second_half_mb": (half[-1] - half[0]) if len(half) > 1 else 0.0,
        "rss_peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "rss_samples": samples,
        "captures": len(snap.captures),
        "input_wh": list(frames[0].shape[1::-1]),
        # What the same gallery took when captures were kept as full-size raw frames.
        "gallery_full_frames_mb": len(snap.captures) * frames[0].nbytes / 2**20,
        "holds": snap.result.hold.holds if snap.result is not None else 0,
        "gallery_mb": gallery,
        "gallery_growth_mb": gallery - gallery_start,
        "timeline_entries": len(snap.timeline),
        "frames_with_face": faces,
        "frames_failed": failed,
        "exceptions": exceptions,
        "first_error": first_error,
        "warnings_logged": warnings.count,
        "first_warning": warnings.first,
    }


def print_memory(m: dict[str, Any]) -> None:
    print(
        f"memory: {m['frames']} frames ({m['session_minutes_at_30fps']} min at 30 fps) "
        f"{'with' if m['overlay'] else 'without'} overlay in {m['wall_s']:.0f} s ({m['fps']:.0f} fps)\n"
        f"  RSS {m['rss_start_mb']:.1f} -> {m['rss_end_mb']:.1f} MiB ({m['rss_growth_mb']:+.1f}; beyond the capture "
        f"gallery {m['rss_growth_beyond_gallery_mb']:+.1f}; second half {m['rss_growth_second_half_mb']:+.1f}; "
        f"peak {m['rss_peak_mb']:.1f})\n"
        f"  input {m['input_wh'][0]}x{m['input_wh'][1]}: holds {m['holds']}, gallery {m['captures']} captures = "
        f"{m['gallery_mb']:.1f} MiB ({m['gallery_growth_mb']:+.1f} during the run; as full-size frames "
        f"{m['gallery_full_frames_mb']:.0f} MiB); timeline {m['timeline_entries']} entries\n"
        f"  frames with a face {m['frames_with_face']}, failed {m['frames_failed']}, exceptions {m['exceptions']}, "
        f"warnings logged {m['warnings_logged']}"
        + (f"\n  first error: {m['first_error']}" if m["first_error"] else "")
        + (f"\n  first warning: {m['first_warning']}" if m["first_warning"] else "")
    )
    samples = m["rss_samples"][:: max(1, len(m["rss_samples"]) // 12)]
    print("  RSS MiB by frame: " + ", ".join(f"{n}: {mb}" for n, mb in samples))


# -- the run -----------------------------------------------------------------------------------
def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clip", default=str(ROOT.parent / "shared" / "media" / "single_face.mp4"))
    ap.add_argument("--target", default="actor_commercial", help="a look the clip reaches (holds, captures)")
    ap.add_argument("--rounds", type=int, default=3, help="ping-pong passes over the clip per resolution")
    ap.add_argument("--resolutions", default=",".join(RESOLUTIONS), help="a comma-separated subset of the default")
    ap.add_argument("--live-seconds", type=float, default=20.0, help="seconds of simulated 30 fps camera (0 to skip)")
    ap.add_argument("--long", type=int, default=20_000, help="frames for the memory run (0 to skip)")
    ap.add_argument("--soak", action="store_true", help=f"only the soak: {SOAK_FRAMES} frames through a CoachSession")
    ap.add_argument("--soak-frames", type=int, default=SOAK_FRAMES, help=f"frames in the soak (default {SOAK_FRAMES})")
    ap.add_argument("--soak-resolution", default="2160p", choices=list(RESOLUTIONS),
                    help="input size of the soak (default 2160p: the capture gallery must stay bounded at 4K)")
    ap.add_argument("--out", default=None, help="JSON results (default benchmarks/results/latest.json or soak.json)")
    args = ap.parse_args()

    clip = Path(args.clip)
    if not clip.is_file():
        raise SystemExit(f"{clip}: clip not found (pass --clip)")
    labels = [r.strip() for r in args.resolutions.split(",") if r.strip()]
    unknown = [r for r in labels if r not in RESOLUTIONS]
    if unknown:
        raise SystemExit(f"--resolutions: unknown {unknown}; expected some of {list(RESOLUTIONS)}")
    target = find_target(args.target)
    out = Path(args.out or ROOT / "benchmarks" / "results" / ("soak.json" if args.soak else "latest.json"))
    base, decode_ms = decode(clip)
    order = ping_pong(len(base))
    results: dict[str, Any] = {
        "machine": machine(),
        "clip": {"name": clip.name, "frames": len(base), "wh": list(base[0].shape[1::-1]),
                 "decode_median_ms": float(np.median(decode_ms))},  # fmt: skip
        "target": target.name,
        "downscale_bound_px": DEFAULT_MAX_SIDE,
    }
    m = results["machine"]
    print(f"{m['cpu']}, {m['nproc']} cores, {m['python']}, mediapipe {m['versions']['mediapipe']}, "
          f"load average {m['loadavg_start']}")  # fmt: skip

    if args.soak:
        wh = RESOLUTIONS[args.soak_resolution]
        frames = base if wh == tuple(base[0].shape[1::-1]) else [cv2.resize(f, wh, interpolation=cv2.INTER_CUBIC) for f in base]
        mem = memory_run(frames, order, args.soak_frames, target, overlay=False)
        results["soak"] = mem
        print_memory(mem)
        ok = (mem["exceptions"] == 0 and mem["frames_failed"] == 0
              and mem["rss_growth_beyond_gallery_mb"] < GOALS["rss_growth_mb"])  # fmt: skip
        results["soak_ok"] = ok
        print(f"  [{'ok' if ok else 'MISSED'}] no exception, no failed frame, RSS growth beyond the capture gallery "
              f"< {GOALS['rss_growth_mb']:.0f} MiB")  # fmt: skip
        return _write(out, results)

    # 5 first, in a fresh process: nothing large has been allocated and freed yet.
    if args.long:
        results["long_run"] = memory_run(base, order, args.long, target, overlay=True)
        print_memory(results["long_run"])

    # 1-3: bare vs loop vs loop+overlay per resolution; 4: the live callback at 360p.
    rows = []
    for label in labels:
        wh = RESOLUTIONS[label]
        same = wh == tuple(base[0].shape[1::-1])
        frames = base if same else [cv2.resize(f, wh, interpolation=cv2.INTER_CUBIC) for f in base]
        coach = live_coach(target) if label == "360p" else None
        bare, loop, drawn = Bare(), Loop(target, False), Loop(target, True)
        contenders: dict[str, Callable[[Any], object]] = {"bare": bare, "loop": loop, "loop+overlay": drawn}
        inputs: dict[str, list[Any]] = {name: frames for name in contenders}
        try:
            if coach is not None:
                contenders["live callback"] = coach
                inputs["live callback"] = av_frames(frames)
            ms = interleaved(contenders, inputs, order, args.rounds)
        except BaseException:
            if coach is not None:
                coach.close()
            raise
        finally:
            for c in (bare, loop, drawn):
                c.close()
        row: dict[str, Any] = {"input": label, "wh": list(wh), "frames_timed": len(ms["bare"])}
        for name, v in ms.items():
            row[name] = summary(v)
        row["loop_ratio"] = row["loop"]["median_ms"] / row["bare"]["median_ms"]
        row["overlay_ratio"] = row["loop+overlay"]["median_ms"] / row["bare"]["median_ms"]
        row["stages"] = drawn.stages()
        row["own_ms"] = row["stages"][OWN_STAGE]["median_ms"]
        if coach is not None:
            row["live_ratio"] = row["live callback"]["median_ms"] / row["bare"]["median_ms"]
            if args.live_seconds > 0:
                row["live_30fps"] = live_drops(coach, inputs["live callback"], order, args.live_seconds)
            stats = coach.stats()
            row["live_stats_page_sees"] = {"process_ms": stats.process_ms, "overlay_ms": stats.overlay_ms}
            coach.close()
        rows.append(row)
        print(_row_line(row), flush=True)
        del frames, inputs
        gc.collect()
    results["resolutions"] = rows
    by = {r["input"]: r for r in rows}
    if "360p" in by and "2160p" in by:
        results["res_ratio_2160_vs_360"] = {
            "loop": by["2160p"]["loop"]["median_ms"] / by["360p"]["loop"]["median_ms"],
            "loop+overlay": by["2160p"]["loop+overlay"]["median_ms"] / by["360p"]["loop+overlay"]["median_ms"],
            "bare": by["2160p"]["bare"]["median_ms"] / by["360p"]["bare"]["median_ms"],
        }
    results["goals"] = goals(results)
    results["machine"]["loadavg_end"] = os.getloadavg() if hasattr(os, "getloadavg") else None
    report(results)
    return _write(out, results)


def goals(results: dict[str, Any]) -> dict[str, bool]:
    checks: dict[str, bool] = {}
    for r in results.get("resolutions", []):
        checks[f"loop / bare <= {GOALS['loop_ratio']:.2f} at {r['input']}"] = r["loop_ratio"] <= GOALS["loop_ratio"]
        checks[f"loop+overlay / bare <= {GOALS['overlay_ratio']:.2f} at {r['input']}"] = (
            r["overlay_ratio"] <= GOALS["overlay_ratio"]
        )
        checks[f"own work <= {GOALS['own_ms']} ms median at {r['input']}"] = r["own_ms"] <= GOALS["own_ms"]
    rr = results.get("res_ratio_2160_vs_360")
    if rr:
        checks[f"2160p loop within {GOALS['res_ratio']}x of 360p"] = rr["loop"] <= GOALS["res_ratio"]
        checks[f"2160p loop+overlay within {GOALS['res_ratio']}x of 360p"] = rr["loop+overlay"] <= GOALS["res_ratio"]
    lr = results.get("long_run")
    if lr:
        limit = GOALS["rss_growth_mb"]
        checks[f"RSS growth beyond the capture gallery < {limit:.0f} MiB over {lr['frames']} frames"] = (
            lr["rss_growth_beyond_gallery_mb"] < limit
        )
        checks[f"RSS growth incl. the gallery ({lr['gallery_growth_mb']:+.0f} MiB) < {limit:.0f} MiB"] = (
            lr["rss_growth_mb"] < limit
        )
        checks["long run: no exception, no failed frame"] = lr["exceptions"] == 0 and lr["frames_failed"] == 0
    return checks


def _row_line(r: dict[str, Any]) -> str:
    def cell(name: str) -> str:
        s = r[name]
        return f"{s['median_ms']:6.2f} ({s['p95_ms']:5.2f})"

    line = (
        f"{r['input']:>6}  bare {cell('bare')}  loop {cell('loop')} {r['loop_ratio']:.3f}x  "
        f"loop+overlay {cell('loop+overlay')} {r['overlay_ratio']:.3f}x"
    )
    if "live callback" in r:
        line += f"  live callback {cell('live callback')} {r['live_ratio']:.3f}x"
    return line


def report(results: dict[str, Any]) -> None:
    rows = results["resolutions"]
    print("\nms per frame, median (p95); ratio = median / bare median at the same input")
    print(f"{'input':>6} | {'bare':>15} | {'loop':>15} {'ratio':>6} | {'loop+overlay':>15} {'ratio':>6} | "
          f"{'fps loop':>8}")  # fmt: skip
    for r in rows:
        def c(name: str) -> str:
            return f"{r[name]['median_ms']:6.2f} ({r[name]['p95_ms']:6.2f})"

        print(f"{r['input']:>6} | {c('bare'):>15} | {c('loop'):>15} {r['loop_ratio']:6.3f} | "
              f"{c('loop+overlay'):>15} {r['overlay_ratio']:6.3f} | {r['loop']['fps']:8.1f}")  # fmt: skip
    stages = ["preprocess", "inference", OWN_STAGE, "overlay"]
    print("\nstages of loop+overlay, ms per frame, median / p95")
    print(f"{'input':>6} | " + " | ".join(f"{s:>20}" for s in stages))
    for r in rows:
        cells = [f"{r['stages'][s]['median_ms']:8.3f} / {r['stages'][s]['p95_ms']:7.3f}" if s in r["stages"] else "-"
                 for s in stages]  # fmt: skip
        print(f"{r['input']:>6} | " + " | ".join(f"{c:>20}" for c in cells))
    for r in rows:
        if "live callback" in r:
            lc = r["live callback"]
            print(f"\nlive callback at {r['input']} (yuv420p av.VideoFrame in, annotated yuv420p out): "
                  f"{lc['median_ms']:.2f} ms median, {lc['p95_ms']:.2f} p95 ({r['live_ratio']:.3f}x bare)")  # fmt: skip
            d = r.get("live_30fps")
            if d:
                print(f"  fed by a {d['camera_fps']:.0f} fps camera for {d['seconds']:.0f} s: "
                      f"{d['processed']}/{d['offered']} frames processed, {d['dropped']} dropped "
                      f"({d['dropped_pct']:.1f}%), {d['output_fps']:.1f} fps out, "
                      f"callback {d['callback_median_ms']:.2f} ms median / {d['callback_p95_ms']:.2f} p95 / "
                      f"{d['callback_max_ms']:.1f} max")  # fmt: skip
    rr = results.get("res_ratio_2160_vs_360")
    if rr:
        print(f"\n2160p / 360p: loop {rr['loop']:.2f}x, loop+overlay {rr['loop+overlay']:.2f}x "
              f"(bare MediaPipe {rr['bare']:.2f}x)")  # fmt: skip
    print("\ngoals")
    for name, ok in results["goals"].items():
        print(f"  [{'ok' if ok else 'MISSED'}] {name}")
    m = results["machine"]
    print(f"load average {m['loadavg_start']} at start, {m['loadavg_end']} at end")


def _write(out: Path, results: dict[str, Any]) -> int:
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2) + "\n")
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
