"""What the Streamlit page drives, without Streamlit: the live video callback (with its
calibration hand-off), the clip and snapshot runs, calibrating from a clip, ICE settings, and
exporting captures.

Nothing here imports Streamlit, so it can be tested (and reused) on its own. The page
(``streamlit_app.py`` and :mod:`posecoach.ui.panels`) only reads the plain values these
objects hand out.

Threading: :class:`LiveCoach` is called by streamlit-webrtc on a worker thread, one frame at
a time. The page thread only reads :meth:`LiveCoach.stats` and the
:class:`~posecoach.session.CoachSession` snapshot (both lock-guarded) and swaps in new
settings with :meth:`LiveCoach.configure` (an atomic reference swap the worker picks up on
its next frame). Nothing in the callback touches Streamlit.

Calibration: the page hands :meth:`LiveCoach.start_calibration` a
:class:`~posecoach.calibration.CalibrationRecorder`; while it runs, the callback feeds it
every frame's raw metrics (instead of coaching: no holds or captures are made of a
calibration) and draws its prompt and countdown on the picture. The page polls the
recorder's immutable ``state`` (and restarts it while the camera is stopped).
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
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np

from posecoach.calibration import (
    CalibrationProfile,
    CalibrationRecorder,
    PhaseRejected,
    PhaseSamples,
    PhaseStats,
    build_profile,
    check_closed,
    check_neutral,
    check_smile,
    validate_name,
)
from posecoach.calibration import Window, collect_windows, frame_luma
from posecoach.calibration_run import TrackerObserver
from posecoach.detector import FaceTracker, TrackerMode
from posecoach.overlay import Annotator, CalibrationBand, Detail
from posecoach.pipeline import Pipeline, PipelineOptions
from posecoach.results import TARGET_METRICS, FrameResult, Metrics
from posecoach.session import Capture, CoachSession, SessionSnapshot
from posecoach.sources import IMAGE_EXTENSIONS, SourceError, open_source
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
    #: The person's calibration (None: coach uncalibrated).
    profile: CalibrationProfile | None = None

    def pipeline(self, target: Target, tracker: FaceTracker | None, *, still: bool = False) -> Pipeline:
        """The coaching loop these settings describe, on ``tracker``."""
        return Pipeline(target, tracker, profile=self.profile, options=self.options(still=still))

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
        session = CoachSession(settings.pipeline(target, self.tracker))
        self._view = _View(session, Annotator(detail=settings.detail), target, settings.mirror, settings)
        self._calibration: CalibrationRecorder | None = None
        self._band = CalibrationBand()
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

        A new target, strictness, hold time or calibration profile gets a new pipeline (sharing the landmarker),
        swapped in by reference: the worker thread picks it up on its next frame and never
        sees a half-changed pipeline.
        """
        view = self._view
        old = view.settings
        session = view.session
        if (
            target != view.target
            or settings.strictness != old.strictness
            or settings.hold_s != old.hold_s
            or settings.profile != old.profile
        ):
            session.pipeline = settings.pipeline(target, self.tracker)
        annotator = view.annotator if settings.detail == old.detail else Annotator(detail=settings.detail)
        self._view = _View(session, annotator, target, settings.mirror, settings)

    def close(self) -> None:
        self._finalizer()

    # -- calibration (page thread) -------------------------------------------------------
    def start_calibration(self, recorder: CalibrationRecorder) -> CalibrationRecorder:
        """Feed the coming frames to ``recorder`` (a new one, or restarted) until it finishes.

        While it runs, frames are measured but not coached: no score timeline, holds or
        captures are made of the calibration. Returns ``recorder``.
        """
        self._calibration = recorder
        return recorder

    def stop_calibration(self) -> None:
        """Forget the calibration (finished or not); the next frame is coached again."""
        self._calibration = None

    @property
    def calibration(self) -> CalibrationRecorder | None:
        """The recorder handed to :meth:`start_calibration` (until :meth:`stop_calibration`)."""
        return self._calibration

    @property
    def calibrating(self) -> bool:
        """True while a calibration is recording (the callback feeds it instead of coaching)."""
        cal = self._calibration
        return cal is not None and not cal.state.finished

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
        cal = self._calibration
        calibrating = cal is not None and not cal.state.finished
        if t_ms - self._last_t_ms > RESTART_GAP_MS:
            # A new stream (STOP/START) or a long hiccup: forget the old face's smoothing
            # and hold; keep scores, captures and the profile. A calibration under way
            # carries on (its clock jumps with the frames'); the page starts it over when the
            # person stops the camera.
            v.session.pipeline.reset()
            log.info("live frames (re)started at %.1f s", t_ms / 1000.0)
        self._last_t_ms = max(self._last_t_ms, t_ms)
        t_overlay = None
        shown = image
        try:
            if calibrating:
                result = self._calibrate_frame(cal, v, image, t_ms)
            else:
                result = v.session.process(image, t_ms)
            if annotate:
                shown = cv2.flip(image, 1) if (v.mirror and image.size) else image
                t_overlay = time.perf_counter()
                if calibrating:
                    shown = self._band.annotate(shown, cal.state)
                elif result is not None:
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

    @staticmethod
    def _calibrate_frame(cal: CalibrationRecorder, v: _View, image: np.ndarray, t_ms: float) -> FrameResult | None:
        """One calibration frame: measured by the pipeline (raw metrics), fed to the recorder.

        A frame that cannot be measured still advances the recorder's clock (no face).
        """
        result = None
        luma = None
        if isinstance(image, np.ndarray) and image.size:
            luma = frame_luma(image)
            try:
                result = v.session.pipeline.process(image, t_ms)
            except Exception as e:  # noqa: BLE001 - the stream must live on
                log.warning("calibration frame not measured: %s", e)
        cal.update(result, t_ms, luma=luma)
        return result

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


#: First bytes of the photo formats phones, cameras and browsers produce.
_PHOTO_MAGIC = (b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n", b"GIF87a", b"GIF89a", b"II*\x00", b"MM\x00*")
#: ISO-BMFF brands of still images (HEIC/HEIF/AVIF photos share the container with mp4).
_PHOTO_BRANDS = (b"heic", b"heix", b"heim", b"heis", b"mif1", b"avif")


def looks_like_photo(data: bytes, name: str = "") -> bool:
    """True when an upload is a photo (by its extension or its first bytes), not a video."""
    ext = os.path.splitext(name)[1].lower()
    if ext in IMAGE_EXTENSIONS or ext in (".gif", ".heic", ".heif", ".avif"):
        return True
    head = bytes(data[:16])
    if head.startswith(_PHOTO_MAGIC):
        return True
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return True
    return head[4:8] == b"ftyp" and head[8:12] in _PHOTO_BRANDS


@contextmanager
def open_upload(data: bytes, name: str) -> Iterator[Any]:
    """An uploaded clip as a :class:`~posecoach.sources.VideoFileSource`, read from memory.

    Errors are one line naming the upload (never the in-memory path behind it).

    Raises:
        SourceError: empty, a photo, or not a video posecoach can read.
    """
    if not data:
        raise SourceError(f"{name}: empty file (0 bytes)")
    if looks_like_photo(data, name):
        raise SourceError(f"{name}: is a photo, not a video (use Snapshot for photos)")
    suffix = os.path.splitext(name)[1].lower()
    with in_memory_file(data, suffix) as path:
        try:
            source = open_source(path)
        except SourceError as e:
            raise SourceError(str(e).replace(path, name)) from None
        try:
            if source.is_image:
                raise SourceError(f"{name}: is a photo, not a video (use Snapshot for photos)")
            yield source
        finally:
            source.close()


@dataclass(frozen=True, eq=False)
class ClipRun:
    """A practice clip, coached frame by frame.

    ``snapshot`` is the session at the end (timeline, captures, last result);
    ``preview`` the annotated frame with the best score (or the last frame);
    ``best_result`` that frame's result (None without a coached face);
    ``fps`` how fast it was processed; ``duration_s`` how long the clip runs (seconds);
    ``expected_frames`` what the container promised (None if unknown); ``truncated`` True
    when clearly fewer frames could be decoded (a file cut short).
    """

    name: str
    snapshot: SessionSnapshot
    preview: np.ndarray
    frames: int
    fps: float
    best_score: float | None
    best_result: FrameResult | None = None
    duration_s: float = 0.0
    expected_frames: int | None = None
    truncated: bool = False


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
    annotator = Annotator(detail=settings.detail)
    started = time.perf_counter()
    with open_upload(data, name) as source, FaceTracker(mode=TrackerMode.VIDEO) as tracker:
        session = CoachSession(settings.pipeline(target, tracker))
        best: tuple[float, np.ndarray, FrameResult] | None = None
        last: tuple[np.ndarray, FrameResult] | None = None
        n = 0
        t_first = t_last = 0.0
        for frame in source:
            result = session.process(frame.image, frame.t_ms)
            if n == 0:
                t_first = frame.t_ms
            t_last = frame.t_ms
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
        expected = source.n_frames
        truncated = n < max_frames and source.ended_early
        step_ms = 1000.0 / (source.fps or 30.0)
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
        best_result=best[2] if best is not None else None,
        duration_s=max(0.0, t_last - t_first + step_ms) / 1000.0,
        expected_frames=expected,
        truncated=truncated,
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
    session = CoachSession(settings.pipeline(target, tracker, still=True))
    result = session.process(image, 0.0)
    if result is None:
        raise SourceError("the photo could not be processed")
    preview = _shown(Annotator(detail=settings.detail), image, result, settings.mirror, target)
    return PhotoRun(result, preview, session.snapshot())


# -- calibrating from a clip, and before/after ------------------------------------------------
#: What the person is asked for in each phase (the live prompts' titles).
PHASE_TITLES: dict[str, str] = {"neutral": "Neutral face", "smile": "Big smile", "closed": "Eyes closed"}


@dataclass(frozen=True, eq=False)
class ClipCalibration:
    """A calibration learned from time ranges of an uploaded clip (not saved yet).

    ``samples`` are the raw metrics per phase (for a before/after view), ``stats`` each
    phase's summary in the order neutral, smile[, closed].
    """

    profile: CalibrationProfile
    samples: dict[str, PhaseSamples]
    stats: tuple[PhaseStats, ...]
    windows: dict[str, Window]


def calibrate_clip(data: bytes, clip_name: str, profile_name: str, windows: dict[str, Window]) -> ClipCalibration:
    """Learn ``profile_name`` from an uploaded clip: ``windows`` maps "neutral", "smile" and
    optionally "closed" to the time ranges where the person did each (see
    :func:`posecoach.calibration_run.collect_windows`). Nothing is written.

    Raises:
        CalibrationError: an invalid profile name.
        SourceError: the upload is not a video posecoach can read.
        PhaseRejected: a phase is unusable (``reason`` says why, for the person), including
            a range that holds no frames.
        ModelError: the model is missing or broken.
    """
    validate_name(profile_name)
    if not {"neutral", "smile"} <= set(windows) <= {"neutral", "smile", "closed"}:
        raise ValueError(f"calibration windows must be neutral, smile[, closed], got {sorted(windows)}")
    end_ms = [0.0]
    with open_upload(data, clip_name) as source, FaceTracker(mode=TrackerMode.VIDEO) as tracker:

        def frames() -> Iterator[Any]:
            for frame in source:
                end_ms[0] = frame.t_ms
                yield frame

        samples = collect_windows(frames(), TrackerObserver(tracker), windows)
    for phase in ("neutral", "smile", "closed"):
        if phase in windows and samples[phase].frames == 0:
            raise PhaseRejected(
                phase, f"the range {windows[phase]} holds no frames (the clip ends at {end_ms[0] / 1000.0:.1f} s)"
            )
    profile = build_profile(profile_name, samples["neutral"], samples["smile"], samples.get("closed"))
    neutral = check_neutral(samples["neutral"])
    stats = [neutral, check_smile(samples["smile"], neutral)]
    if "closed" in samples:
        stats.append(check_closed(samples["closed"], neutral))
    return ClipCalibration(profile, samples, tuple(stats), dict(windows))


def before_after_medians(
    profile: CalibrationProfile, observations: Iterable[Metrics | FrameResult | None]
) -> dict[str, tuple[float, float]]:
    """``metric -> (uncalibrated, calibrated)``: the medians over the observations with a face.

    Observations are raw metrics (or FrameResults, whose ``raw_metrics`` are used); the
    metrics are :data:`~posecoach.calibration.BEFORE_AFTER_METRICS` (angles in degrees, the
    rest 0..1). Empty when no observation has a face.
    """
    raws = [o.raw_metrics if isinstance(o, FrameResult) else o for o in observations]
    rows = [profile.before_after(m) for m in raws if isinstance(m, Metrics)]
    if not rows:
        return {}
    names = [name for name, _, _ in rows[0]]
    values = np.array([[(b, a) for _, b, a in row] for row in rows], dtype=np.float64)
    med = np.median(values, axis=0)
    return {name: (float(med[i, 0]), float(med[i, 1])) for i, name in enumerate(names)}


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
