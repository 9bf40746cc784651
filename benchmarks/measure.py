"""What ``bench.py`` measures with: the machine, the clip's frames, the contenders (bare MediaPipe,
the posecoach loop without and with the overlay, the live page's callback), timing them
interleaved frame by frame, and the live callback fed by a simulated 30 fps camera.

Imported by ``benchmarks/bench.py``, which runs them, checks the goals and prints the report.
"""

from __future__ import annotations

import gc
import os
import platform
import queue
import resource
import threading
import time
from pathlib import Path
from typing import Any, Callable

import cv2
import numpy as np

from posecoach.detector import FaceTracker, TrackerMode
from posecoach.model_file import DEFAULT_MODEL_PATH
from posecoach.native import keep_native_code_offline, native_stderr_silenced
from posecoach.overlay import Annotator
from posecoach.pipeline import Pipeline
from posecoach.targets import Target
from posecoach.timing import StageTimer

#: Milliseconds between frames of a 30 fps camera (the timestamps the contenders are fed).
FRAME_MS = 1000.0 / 30.0


# -- the machine ---------------------------------------------------------------------------
def machine() -> dict[str, Any]:
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next((line.split(":", 1)[1].strip() for line in f if line.startswith("model name")), cpu)
    except OSError:
        pass
    versions = {}
    for name in ("mediapipe", "numpy", "opencv-contrib-python", "av", "streamlit-webrtc"):
        try:
            from importlib.metadata import version

            versions[name] = version(name)
        except Exception:  # noqa: BLE001 - not installed
            versions[name] = None
    return {
        "cpu": cpu,
        "nproc": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "platform": platform.platform(),
        "opencv_threads": cv2.getNumThreads(),
        "versions": versions,
        "loadavg_start": os.getloadavg() if hasattr(os, "getloadavg") else None,
    }


def rss_mb() -> float:
    """Resident set size of this process now, in MiB (Linux /proc; peak RSS elsewhere)."""
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    except OSError:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# -- frames ----------------------------------------------------------------------------------
def decode(clip: Path) -> tuple[list[np.ndarray], list[float]]:
    """All frames of ``clip`` (BGR) and the milliseconds each took to decode."""
    cap = cv2.VideoCapture(str(clip))
    frames, ms = [], []
    while True:
        t0 = time.perf_counter()
        ok, frame = cap.read()
        if not ok:
            break
        ms.append((time.perf_counter() - t0) * 1000.0)
        frames.append(frame)
    cap.release()
    if not frames:
        raise SystemExit(f"{clip}: no frames decoded")
    return frames, ms


def ping_pong(n: int) -> list[int]:
    """Frame order forward then backward (0..n-1, n-2..1): looping it never jumps."""
    return list(range(n)) + list(range(n - 2, 0, -1))


# -- contenders ----------------------------------------------------------------------------
class Bare:
    """The floor: MediaPipe's FaceLandmarker with the options posecoach uses, nothing else;
    ``faces`` the most faces it looks for (posecoach's one-person default is 4)."""

    def __init__(self, faces: int = 4) -> None:
        keep_native_code_offline()  # as FaceTracker does: MediaPipe's uploader reaches nothing
        with native_stderr_silenced(True):
            import mediapipe as mp
            from mediapipe.tasks.python import BaseOptions
            from mediapipe.tasks.python.vision import FaceLandmarker, FaceLandmarkerOptions, RunningMode

            self.mp = mp
            self.lm = FaceLandmarker.create_from_options(
                FaceLandmarkerOptions(
                    base_options=BaseOptions(model_asset_path=str(DEFAULT_MODEL_PATH)),
                    running_mode=RunningMode.VIDEO,
                    num_faces=faces,
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
    """The full posecoach loop on raw frames; with ``overlay``, also the mirrored picture the
    live page shows (``cv2.flip`` + ``Annotator.annotate``), timed as the ``overlay`` stage."""

    def __init__(self, target: Target, overlay: bool) -> None:
        self.timer = StageTimer()
        self.target = target
        with native_stderr_silenced(True):
            self.tracker = FaceTracker(mode=TrackerMode.VIDEO)
        self.pipeline = Pipeline(target, self.tracker, timer=self.timer)
        self.annotator = Annotator() if overlay else None
        self.ts = 0.0

    def __call__(self, frame: np.ndarray) -> object:
        self.ts += FRAME_MS
        result = self.pipeline.process(frame, self.ts)
        if self.annotator is not None:
            t0 = time.perf_counter()
            self.annotator.annotate(cv2.flip(frame, 1), result, mirrored=True, target=self.target)
            self.timer.add("overlay", time.perf_counter() - t0)
        return result

    def stages(self) -> dict[str, dict[str, float]]:
        return {s.stage: {"median_ms": s.median_ms, "p95_ms": s.p95_ms} for s in self.timer.stats()}

    def close(self) -> None:
        self.tracker.close()


def live_coach(target: Target) -> Any | None:
    """The live page's video callback object, or None where the UI is not installed."""
    try:
        import av  # noqa: F401
        from posecoach.live import LiveCoach
        from posecoach.runs import CoachSettings

        with native_stderr_silenced(True):
            return LiveCoach(target, CoachSettings(target=target.name))
    except Exception as e:  # noqa: BLE001 - the UI is optional here; say why it was left out
        print(f"(live callback skipped: {type(e).__name__}: {e})", flush=True)
        return None


def av_frames(frames: list[np.ndarray]) -> list[Any]:
    """The frames as a WebRTC decoder hands them over: yuv420p ``av.VideoFrame`` s."""
    import av

    return [av.VideoFrame.from_ndarray(f, format="bgr24").reformat(format="yuv420p") for f in frames]


def interleaved(
    contenders: dict[str, Callable[[Any], object]], inputs: dict[str, list[Any]], order: list[int], rounds: int
) -> dict[str, np.ndarray]:
    """Milliseconds per frame for each contender, frame by frame in rotating order.

    ``inputs[name][i]`` is frame ``i`` as that contender takes it. Ten frames of warm-up
    (model caches, first detection) are not counted.
    """
    names = list(contenders)
    for i in order[:10]:
        for name in names:
            contenders[name](inputs[name][i])
    per: dict[str, list[float]] = {name: [] for name in names}
    gc.collect()
    step = 0
    for _ in range(rounds):
        for i in order:
            step += 1
            k = step % len(names)
            for name in names[k:] + names[:k]:
                fn, x = contenders[name], inputs[name][i]
                t0 = time.perf_counter()
                fn(x)
                per[name].append((time.perf_counter() - t0) * 1000.0)
    return {name: np.asarray(v) for name, v in per.items()}


def summary(ms: np.ndarray) -> dict[str, float]:
    return {"median_ms": float(np.median(ms)), "p95_ms": float(np.percentile(ms, 95)), "fps": 1000.0 / float(ms.mean())}


# -- the live path under a 30 fps camera ------------------------------------------------------
def live_drops(coach: Any, frames: list[Any], order: list[int], seconds: float, fps: float = 30.0) -> dict[str, Any]:
    """Feed ``coach`` like streamlit-webrtc does with ``async_processing=True``.

    A camera thread puts a frame on a queue every 1/fps s; the worker takes the newest
    frame, drops the ones queued behind it (``recv_queued`` calls the callback on
    ``frames[-1]`` only) and runs the callback. Video decode/encode (aiortc) is not
    simulated: on the real page it competes for the same cores.
    """
    q: queue.Queue = queue.Queue()
    stop = object()
    offered = int(seconds * fps)
    times: list[float] = []
    dropped = 0

    def camera() -> None:
        t_next = time.perf_counter()
        for n in range(offered):
            q.put(frames[order[n % len(order)]])
            t_next += 1.0 / fps
            delay = t_next - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
        q.put(stop)

    thread = threading.Thread(target=camera, name="camera", daemon=True)
    started = time.perf_counter()
    thread.start()
    done = False
    while not done:
        batch = [q.get()]
        while not q.empty():
            batch.append(q.get_nowait())
        if batch[-1] is stop:
            batch.pop()
            done = True
        if not batch:
            break
        dropped += len(batch) - 1
        t0 = time.perf_counter()
        coach(batch[-1])
        times.append((time.perf_counter() - t0) * 1000.0)
    thread.join()
    elapsed = time.perf_counter() - started
    ms = np.asarray(times)
    return {
        "camera_fps": fps,
        "seconds": round(elapsed, 2),
        "offered": offered,
        "processed": len(times),
        "dropped": dropped,
        "dropped_pct": 100.0 * dropped / offered if offered else 0.0,
        "output_fps": len(times) / elapsed if elapsed > 0 else 0.0,
        "callback_median_ms": float(np.median(ms)) if len(ms) else float("nan"),
        "callback_p95_ms": float(np.percentile(ms, 95)) if len(ms) else float("nan"),
        "callback_max_ms": float(ms.max()) if len(ms) else float("nan"),
    }
