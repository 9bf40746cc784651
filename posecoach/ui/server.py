"""Server settings of the page, without Streamlit: the WebRTC ICE servers, bringing
streamlit-webrtc's worker-thread errors into posecoach's log, and keeping the garbage
collector's full passes short while the camera streams."""

from __future__ import annotations

import gc
import json
import logging
import os
import threading
import time
from collections import deque
from typing import Any

#: Environment variable with the ICE servers for remote use (see :func:`ice_servers_from_env`).
ICE_ENV = "POSECOACH_ICE_SERVERS"


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


_frozen_lock = threading.Lock()
_frozen = False


def freeze_loaded_objects() -> None:
    """Take what the server process holds so far (Streamlit, MediaPipe, aiortc, their modules)
    out of the garbage collector's full passes; once per process.

    While the camera streamed in the browser test, a full collection walked that whole heap in
    90-175 ms, one to three times a second (timed with ``gc.callbacks``), holding the GIL: the
    video thread and aiortc's network loop stood still meanwhile, and frames queued behind. A
    frozen object is still freed when its last reference goes; only a reference cycle among
    frozen objects would be kept, and these live until the server stops anyway.
    """
    global _frozen
    with _frozen_lock:
        if not _frozen:
            gc.collect()
            gc.freeze()
            _frozen = True
