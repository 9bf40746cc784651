"""Landmarkers that outlive a script run (the page's): closed safely when their owner is
garbage-collected, and when the server exits.

:func:`tie_tracker` is what an owner (:class:`~posecoach.live.LiveCoach`,
:class:`~posecoach.runs.PhotoCoach`) calls; :func:`close_at_exit` alone covers the exit.
"""

from __future__ import annotations

import queue
import threading
import weakref

from posecoach.detector import FaceTracker

_open_trackers: weakref.WeakSet[FaceTracker] = weakref.WeakSet()
_exit_hook_lock = threading.Lock()
_exit_hook_installed = False
#: Trackers whose owners were garbage-collected, waiting for the closer thread.
_to_close: queue.SimpleQueue[FaceTracker] = queue.SimpleQueue()
_close_lock = threading.Lock()


def _close(tracker: FaceTracker) -> None:
    with _close_lock:  # the closer thread and the exit hook may reach the same tracker
        try:
            tracker.close()
        except Exception:  # noqa: BLE001 - a tracker nobody uses any more; nothing to tell anyone
            pass


def _close_open_trackers() -> None:
    for tracker in list(_open_trackers):
        _close(tracker)


def _closer() -> None:
    while True:
        _close(_to_close.get())


def tie_tracker(owner: object, tracker: FaceTracker) -> weakref.finalize:
    """Close ``tracker`` when ``owner`` is garbage-collected, and at server exit
    (:func:`close_at_exit`). Returns the finalizer: ``detach()`` it, then close the tracker,
    to close it at once.

    Not in the finalizer itself: the garbage collector runs finalizers inside whatever code
    was allocating, for instance a ``ThreadPoolExecutor.submit`` (Streamlit's) holding
    ``concurrent.futures``' process-wide lock, and MediaPipe's close submits to a thread pool
    too: it would wait for that lock forever (seen as a hung test run). The finalizer only
    queues the tracker (``SimpleQueue.put`` is safe there); a daemon thread closes it.
    """
    close_at_exit(tracker)
    finalizer = weakref.finalize(owner, _to_close.put, tracker)
    finalizer.atexit = False  # too late by then: close_at_exit does it
    return finalizer


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
            threading.Thread(target=_closer, name="posecoach-closer", daemon=True).start()
            _exit_hook_installed = True
        _open_trackers.add(tracker)
    return tracker
