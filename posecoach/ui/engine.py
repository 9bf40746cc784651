"""What the Streamlit page drives, without Streamlit: the live video callback, the clip and
snapshot runs, ICE settings, and exporting captures.

Nothing here imports Streamlit, so it can be tested (and reused) on its own. The page
(``streamlit_app.py`` and :mod:`posecoach.ui.panels`) only reads the plain values these
objects hand out.

Threading: :class:`LiveCoach` is called by streamlit-webrtc on a worker thread, one frame at
a time. The page thread only reads :meth:`LiveCoach.stats` and the
:class:`~posecoach.session.CoachSession` snapshot (both lock-guarded) and swaps in new
settings with :meth:`LiveCoach.configure` (an atomic reference swap the worker picks up on
its next frame). Nothing in the callback touches Streamlit.
"""

from __future__ import annotations

import io
import json
import logging
import os
import tempfile
import threading
import time
import weakref
import zipfile
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np

from posecoach.detector import FaceTracker, TrackerMode
from posecoach.overlay import Annotator, Detail
from posecoach.pipeline import Pipeline, PipelineOptions
from posecoach.results import TARGET_METRICS, FrameResult
from posecoach.session import Capture, CoachSession, SessionSnapshot
from posecoach.sources import SourceError, open_source
from posecoach.targets import Target

log = logging.getLogger("posecoach.ui")

#: Environment variable with the ICE servers for remote use (see :func:`ice_servers_from_env`).
ICE_ENV = "POSECOACH_ICE_SERVERS"
#: A pause in the frames longer than this (STOP/START, a camera hiccup) starts the face over.
RESTART_GAP_MS = 1000.0
#: Queued camera frames coached per callback at most (older ones are skipped).
MAX_CATCH_UP = 4


# -- settings --------------------------------------------------------------------------
@dataclass(frozen=True)
class CoachSettings:
    """What the controls chose. Plain values, compared to decide what to rebuild."""

    target: str
    strictness: float = 1.0
    hold_s: float | None = None
    mirror: bool = True
    detail: Detail = Detail.STANDARD

    def options(self, *, still: bool = False) -> PipelineOptions:
        """Pipeline options for a stream, or for a single photo (``still``)."""
        if still:
            return PipelineOptions(strictness=self.strictness, hold_s=self.hold_s, smoothing=False, min_face_frames=1)
        return PipelineOptions(strictness=self.strictness, hold_s=self.hold_s)


def ice_servers_from_env(environ: dict[str, str] | None = None) -> tuple[list[dict[str, Any]], str]:
    """ICE servers for the WebRTC connection, and a warning ("" if none).

    Default: no servers at all (``[]``), which works on this machine and on a LAN and never
    contacts a third party. For remote use set ``POSECOACH_ICE_SERVERS`` to either a JSON list
    of RTCIceServer objects, e.g.
    ``[{"urls": ["turn:turn.example.org:3478"], "username": "u", "credential": "p"}]``,
    or a comma-separated list of URLs, e.g. ``stun:stun.example.org:3478``.
    """
    env = os.environ if environ is None else environ
    raw = env.get(ICE_ENV, "").strip()
    if not raw:
        return [], ""
    if raw.startswith("["):
        try:
            servers = json.loads(raw)
        except json.JSONDecodeError as e:
            return [], f"{ICE_ENV}: not valid JSON ({e.msg} at character {e.pos}); using no ICE servers"
        if not isinstance(servers, list) or not all(isinstance(s, dict) and "urls" in s for s in servers):
            return [], f'{ICE_ENV}: expected a list of objects with "urls"; using no ICE servers'
        return servers, ""
    urls = [u.strip() for u in raw.split(",") if u.strip()]
    bad = [u for u in urls if not u.startswith(("stun:", "stuns:", "turn:", "turns:"))]
    if bad:
        return [], f"{ICE_ENV}: {bad[0]!r} is not a stun:/turn: URL; using no ICE servers"
    return [{"urls": urls}], ""


# -- worker errors -----------------------------------------------------------------------
class _Forward(logging.Handler):
    """Re-emits streamlit-webrtc's warnings and errors into posecoach's log.

    streamlit-webrtc gives its loggers a NullHandler only, so an error on its worker thread
    (an exception in the frame callback, a failed ICE negotiation) would vanish. The newest
    messages are also kept for the page to show.
    """

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.recent: deque[tuple[float, str]] = deque(maxlen=20)

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.recent.append((time.time(), f"{record.name}: {record.getMessage()}"))
            target = logging.getLogger("posecoach.webrtc")
            if target.isEnabledFor(record.levelno):
                target.handle(record)
        except Exception:  # noqa: BLE001 - logging must never raise
            self.handleError(record)


_forward_lock = threading.Lock()


def install_log_forwarding() -> _Forward:
    """Attach (once per process) the handlers that bring worker-thread errors to our log.

    ``posecoach`` loggers print WARNING and above to stderr (the server's console), and
    streamlit-webrtc's records are forwarded there too. Idempotent: Streamlit re-runs the
    page script on every interaction.
    """
    with _forward_lock:
        ours = logging.getLogger("posecoach")
        if not any(getattr(h, "_posecoach", False) for h in ours.handlers):
            handler = logging.StreamHandler()
            handler.setLevel(logging.INFO)
            handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
            handler._posecoach = True  # type: ignore[attr-defined]
            ours.addHandler(handler)
            if ours.level == logging.NOTSET:
                ours.setLevel(logging.INFO)
        webrtc = logging.getLogger("streamlit_webrtc")
        for h in webrtc.handlers:
            if type(h).__name__ == _Forward.__name__ and hasattr(h, "recent"):
                return h  # type: ignore[return-value]
        forward = _Forward()
        webrtc.addHandler(forward)
        return forward


# -- landmarkers that outlive a script run -------------------------------------------------
_open_trackers: weakref.WeakSet[FaceTracker] = weakref.WeakSet()
_exit_hook_lock = threading.Lock()
_exit_hook_installed = False


def _close_open_trackers() -> None:
    for tracker in list(_open_trackers):
        try:
            tracker.close()
        except Exception:  # noqa: BLE001 - shutting down; nothing to tell anyone
            pass


def close_at_exit(tracker: FaceTracker) -> FaceTracker:
    """Make sure ``tracker`` is closed when the server exits, and return it.

    Landmarkers held by browser sessions live until the server stops. MediaPipe closes
    through a thread pool that Python shuts down *before* ``atexit`` handlers and
    ``weakref.finalize`` run, so closing there fails with a traceback, and one left to the
    garbage collector prints another. Python's thread-shutdown hooks run first, in reverse
    order of registration, so a hook registered here (after concurrent.futures registered
    its own at import) closes them while the pool still works. streamlit-webrtc uses the
    same private hook for its worker threads.
    """
    global _exit_hook_installed
    with _exit_hook_lock:
        if not _exit_hook_installed:
            try:
                threading._register_atexit(_close_open_trackers)  # type: ignore[attr-defined]
            except (AttributeError, RuntimeError):
                import atexit

                atexit.register(_close_open_trackers)
            _exit_hook_installed = True
        _open_trackers.add(tracker)
    return tracker


# -- the live callback -------------------------------------------------------------------
@dataclass(frozen=True)
class LiveStats:
    """How the live loop is keeping up: frames processed, frames per second over the last
    couple of seconds, the median time per frame in milliseconds (decode + coaching +
    overlay) and of the overlay alone, and frames skipped because too many were queued."""

    frames: int = 0
    fps: float = 0.0
    process_ms: float = 0.0
    overlay_ms: float = 0.0
    skipped: int = 0


@dataclass(frozen=True)
class _View:
    """Everything the callback reads per frame, swapped as one reference."""

    session: CoachSession
    annotator: Annotator
    target: Target
    mirror: bool
    settings: CoachSettings


class LiveCoach:
    """One browser session's live coaching: one landmarker, one session, the video callback.

    Create it once per browser session (it loads the model: ~0.2 s) and pass its
    :meth:`recv_queued` as ``queued_video_frames_callback`` (or the instance itself as
    ``video_frame_callback``). It survives STOP/START: timestamps fed to MediaPipe
    are wall-clock milliseconds since creation (the browser's pts restart at every START),
    and the tracker repairs any that would not strictly increase.

    Args:
        target: the look to practise.
        settings: the controls' values.
        tracker: a VIDEO-mode tracker to use (owned by this object from now on); default a
            new one from ``$POSECOACH_MODEL`` or the bundled model.

    Raises:
        ModelError: the model file is missing or broken (message for the person).
    """

    def __init__(self, target: Target, settings: CoachSettings, *, tracker: FaceTracker | None = None) -> None:
        self.tracker = close_at_exit(tracker if tracker is not None else FaceTracker(mode=TrackerMode.VIDEO))
        # Close the landmarker when the browser session goes away.
        self._finalizer = weakref.finalize(self, self.tracker.close)
        self._finalizer.atexit = False  # too late by then: close_at_exit does it
        session = CoachSession(Pipeline(target, self.tracker, options=settings.options()))
        self._view = _View(session, Annotator(detail=settings.detail), target, settings.mirror, settings)
        self._t0 = time.monotonic()
        self._lock = threading.Lock()
        self._frames = 0
        self._times: deque[float] = deque(maxlen=90)
        self._process_s: deque[float] = deque(maxlen=90)
        self._overlay_s: deque[float] = deque(maxlen=90)
        self._last_t_ms = -1e18
        self._errors = 0
        self._skipped = 0

    @property
    def session(self) -> CoachSession:
        return self._view.session

    @property
    def target(self) -> Target:
        return self._view.target

    def configure(self, target: Target, settings: CoachSettings) -> None:
        """Apply the controls. Only what changed is rebuilt; captures and the timeline stay.

        A new target, strictness or hold time gets a new pipeline (sharing the landmarker),
        swapped in by reference: the worker thread picks it up on its next frame and never
        sees a half-changed pipeline.
        """
        view = self._view
        old = view.settings
        session = view.session
        if target != view.target or settings.strictness != old.strictness or settings.hold_s != old.hold_s:
            session.pipeline = Pipeline(target, self.tracker, options=settings.options())
        annotator = view.annotator if settings.detail == old.detail else Annotator(detail=settings.detail)
        self._view = _View(session, annotator, target, settings.mirror, settings)

    def close(self) -> None:
        self._finalizer()

    # -- worker thread -----------------------------------------------------------------
    async def recv_queued(self, frames: list[Any]) -> list[Any]:
        """streamlit-webrtc's ``queued_video_frames_callback``.

        Every frame that arrived since the last call is coached, so scores, holds and the
        timeline run at the camera's rate even when frames arrive in bursts (the plain
        ``video_frame_callback`` silently keeps only the newest of a burst). Only the newest
        is annotated and sent back. Past :data:`MAX_CATCH_UP` queued frames the oldest are
        skipped, so a slow machine falls behind in rate, not in latency.
        """
        if len(frames) > MAX_CATCH_UP:
            with self._lock:
                self._skipped += len(frames) - MAX_CATCH_UP
            frames = frames[-MAX_CATCH_UP:]
        now_ms = self._now_ms()
        newest = frames[-1]
        for frame in frames[:-1]:
            # Wall-clock time, spaced by the frames' own timestamps within the burst.
            self._coach_frame(frame, now_ms - _age_ms(frame, newest), show=False)
        return [self._coach_frame(newest, now_ms, show=True)]

    def __call__(self, frame: Any) -> Any:
        """streamlit-webrtc's ``video_frame_callback``: ``av.VideoFrame`` in, annotated out."""
        return self._coach_frame(frame, self._now_ms(), show=True)

    def _now_ms(self) -> float:
        return (time.monotonic() - self._t0) * 1000.0

    def _coach_frame(self, frame: Any, t_ms: float, *, show: bool) -> Any:
        import av

        t_start = time.perf_counter()
        image = frame.to_ndarray(format="bgr24")
        view = self.process_array(image, t_ms=t_ms, annotate=show, t_start=t_start)
        if not show:
            return None
        out = av.VideoFrame.from_ndarray(view, format="bgr24")
        if frame.time_base is not None:
            out.pts, out.time_base = frame.pts, frame.time_base
        return out

    def process_array(
        self, image: np.ndarray, *, t_ms: float | None = None, annotate: bool = True, t_start: float | None = None
    ) -> np.ndarray:
        """Coach one raw BGR frame and return the picture to show (mirrored if chosen).

        ``t_ms`` defaults to wall-clock milliseconds since this object was created.
        With ``annotate=False`` the frame is only coached and returned as it came. Never
        raises: a frame that cannot be processed is shown as it came.
        """
        t_start = time.perf_counter() if t_start is None else t_start
        v = self._view
        if t_ms is None:
            t_ms = self._now_ms()
        if t_ms - self._last_t_ms > RESTART_GAP_MS:
            # A new stream (STOP/START) or a long hiccup: forget the old face's smoothing
            # and hold; keep scores, captures and calibration.
            v.session.pipeline.reset()
            log.info("live frames (re)started at %.1f s", t_ms / 1000.0)
        self._last_t_ms = max(self._last_t_ms, t_ms)
        t_overlay = None
        shown = image
        try:
            result = v.session.process(image, t_ms)
            if annotate:
                shown = cv2.flip(image, 1) if (v.mirror and image.size) else image
                t_overlay = time.perf_counter()
                if result is not None:
                    shown = v.annotator.annotate(shown, result, mirrored=v.mirror, target=v.target)
        except Exception:  # noqa: BLE001 - the stream must live on
            self._errors += 1
            if self._errors <= 3 or self._errors % 100 == 0:
                log.exception("live frame failed (%d so far); showing it unannotated", self._errors)
            shown = image
        t_end = time.perf_counter()
        with self._lock:
            self._frames += 1
            self._times.append(t_end)
            self._process_s.append(t_end - t_start)
            if t_overlay is not None:
                self._overlay_s.append(t_end - t_overlay)
        return shown

    # -- page thread -------------------------------------------------------------------
    def stats(self) -> LiveStats:
        """Frames processed so far, recent frames per second and median milliseconds."""
        with self._lock:
            frames = self._frames
            skipped = self._skipped
            times = list(self._times)
            proc = list(self._process_s)
            over = list(self._overlay_s)
        now = time.perf_counter()
        recent = [t for t in times if now - t <= 2.0]
        fps = (len(recent) - 1) / (recent[-1] - recent[0]) if len(recent) >= 2 and recent[-1] > recent[0] else 0.0
        return LiveStats(
            frames=frames,
            fps=fps,
            process_ms=float(np.median(proc)) * 1000.0 if proc else 0.0,
            overlay_ms=float(np.median(over)) * 1000.0 if over else 0.0,
            skipped=skipped,
        )


def _age_ms(frame: Any, newest: Any) -> float:
    """How much older ``frame`` is than ``newest``, from their timestamps (0 if unknown)."""
    try:
        return max(0.0, float((newest.pts - frame.pts) * newest.time_base) * 1000.0)
    except (TypeError, AttributeError):
        return 0.0


# -- clips and photos --------------------------------------------------------------------
@contextmanager
def in_memory_file(data: bytes, suffix: str = "") -> Iterator[str]:
    """A path other libraries can open that holds ``data`` without writing it to disk.

    Linux: an anonymous memory file (``memfd``) seen through ``/proc/self/fd``. Elsewhere: a
    temporary file removed when the block ends.
    """
    if hasattr(os, "memfd_create") and os.path.isdir("/proc/self/fd"):
        fd = os.memfd_create("posecoach-upload")
        try:
            view = memoryview(data)
            while view:
                n = os.write(fd, view)
                view = view[n:]
            os.lseek(fd, 0, os.SEEK_SET)
            yield f"/proc/self/fd/{fd}"
        finally:
            os.close(fd)
        return
    f = tempfile.NamedTemporaryFile(suffix=suffix, delete=False)  # noqa: SIM115
    try:
        with f:
            f.write(data)
        yield f.name
    finally:
        try:
            os.unlink(f.name)
        except OSError:
            pass


@dataclass(frozen=True, eq=False)
class ClipRun:
    """A practice clip, coached frame by frame.

    ``snapshot`` is the session at the end (timeline, captures, last result);
    ``preview`` the annotated frame with the best score (or the last frame);
    ``fps`` how fast it was processed.
    """

    name: str
    snapshot: SessionSnapshot
    preview: np.ndarray
    frames: int
    fps: float
    best_score: float | None


def run_clip(
    data: bytes,
    name: str,
    target: Target,
    settings: CoachSettings,
    *,
    on_progress: Callable[[int, int | None, np.ndarray | None], None] | None = None,
    preview_every: int = 10,
    max_frames: int = 20_000,
) -> ClipRun:
    """Coach a whole uploaded clip with the same loop as the camera (sources + CoachSession).

    ``on_progress(done, total, annotated_preview_or_None)`` is called every frame (with a
    preview every ``preview_every`` frames). The clip is read from memory, never written to
    disk on Linux.

    Raises:
        SourceError: the bytes are not a video posecoach can read.
        ModelError: the model is missing or broken.
    """
    suffix = os.path.splitext(name)[1].lower()
    annotator = Annotator(detail=settings.detail)
    started = time.perf_counter()
    with in_memory_file(data, suffix) as path:
        source = open_source(path)
        try:
            if source.is_image:
                raise SourceError(f"{name}: is a photo, not a video (use the snapshot mode for photos)")
            with FaceTracker(mode=TrackerMode.VIDEO) as tracker:
                session = CoachSession(Pipeline(target, tracker, options=settings.options()))
                best: tuple[float, np.ndarray, FrameResult] | None = None
                last: tuple[np.ndarray, FrameResult] | None = None
                n = 0
                for frame in source:
                    result = session.process(frame.image, frame.t_ms)
                    n += 1
                    if result is not None:
                        last = (frame.image, result)
                        if result.score is not None and (best is None or result.score.score > best[0]):
                            best = (result.score.score, frame.image.copy(), result)
                    if on_progress is not None:
                        preview = None
                        if result is not None and n % preview_every == 1:
                            preview = _shown(annotator, frame.image, result, settings.mirror, target)
                        on_progress(n, source.n_frames, preview)
                    if n >= max_frames:
                        break
        finally:
            source.close()
    elapsed = time.perf_counter() - started
    if best is not None:
        preview = _shown(annotator, best[1], best[2], settings.mirror, target)
    elif last is not None:
        preview = _shown(annotator, last[0], last[1], settings.mirror, target)
    else:
        preview = np.zeros((360, 640, 3), np.uint8)
    return ClipRun(
        name=name,
        snapshot=session.snapshot(),
        preview=preview,
        frames=n,
        fps=n / elapsed if elapsed > 0 else 0.0,
        best_score=best[0] if best is not None else None,
    )


def _shown(annotator: Annotator, image: np.ndarray, result: FrameResult, mirror: bool, target: Target) -> np.ndarray:
    view = cv2.flip(image, 1) if mirror else image.copy()
    return annotator.annotate(view, result, mirrored=mirror, target=target)


def decode_photo(data: bytes) -> np.ndarray:
    """A photo's bytes as an upright BGR image (EXIF orientation applied).

    Raises:
        SourceError: not an image posecoach can read.
    """
    buf = np.frombuffer(data, np.uint8)
    image = cv2.imdecode(buf, cv2.IMREAD_COLOR) if buf.size else None
    if image is None or image.size == 0:
        raise SourceError("the photo could not be read (corrupt or unsupported format)")
    return image


@dataclass(frozen=True, eq=False)
class PhotoRun:
    """A single photo, coached: its result, the annotated picture and a one-entry snapshot."""

    result: FrameResult
    preview: np.ndarray
    snapshot: SessionSnapshot


def run_photo(image: np.ndarray, tracker: FaceTracker, target: Target, settings: CoachSettings) -> PhotoRun:
    """Coach one photo with an IMAGE-mode ``tracker`` (no smoothing, no persistence)."""
    session = CoachSession(Pipeline(target, tracker, options=settings.options(still=True)))
    result = session.process(image, 0.0)
    if result is None:
        raise SourceError("the photo could not be processed")
    preview = _shown(Annotator(detail=settings.detail), image, result, settings.mirror, target)
    return PhotoRun(result, preview, session.snapshot())


# -- reading a session for the page --------------------------------------------------------
def no_face_seconds(timeline: tuple[tuple[float, float | None], ...]) -> float:
    """How long (s) the newest stretch of the timeline has had no coached face."""
    if not timeline or timeline[-1][1] is not None:
        return 0.0
    end = timeline[-1][0]
    start = end
    for t, score in reversed(timeline):
        if score is not None:
            break
        start = t
    return (end - start) / 1000.0


# -- exporting captures ----------------------------------------------------------------------
def capture_name(capture: Capture, index: int) -> str:
    """A file name for one capture: ``hold-01-corporate_headshot-87.jpg``."""
    return f"hold-{index:02d}-{capture.target}-{capture.score:.0f}.jpg"


def capture_jpeg(capture: Capture, *, quality: int = 92, max_side: int | None = None) -> bytes:
    """The capture (raw, un-mirrored frame) as JPEG bytes, optionally downscaled."""
    image = capture.image
    if max_side is not None and max(image.shape[:2]) > max_side:
        scale = max_side / max(image.shape[:2])
        image = cv2.resize(image, (round(image.shape[1] * scale), round(image.shape[0] * scale)), interpolation=cv2.INTER_AREA)
    ok, buf = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        raise ValueError("JPEG encoding failed")
    return buf.tobytes()


def capture_record(capture: Capture, index: int) -> dict[str, Any]:
    """Score and metrics of one capture, as JSON-ready values."""
    metrics = {name: round(capture.metrics.value(name), 4) for name in TARGET_METRICS}
    metrics["eyes"] = capture.metrics.eyes.value
    return {
        "file": capture_name(capture, index),
        "target": capture.target,
        "score": round(capture.score, 1),
        "t_ms": round(float(capture.t_ms), 1),
        "frame": capture.frame,
        "metrics": metrics,
    }


def captures_zip(captures: tuple[Capture, ...]) -> bytes:
    """All captures as JPEGs plus ``captures.json`` (scores and metrics), zipped in memory."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as z:
        records = []
        for i, capture in enumerate(captures, 1):
            z.writestr(capture_name(capture, i), capture_jpeg(capture))
            records.append(capture_record(capture, i))
        z.writestr("captures.json", json.dumps(records, indent=1))
    return buf.getvalue()
