"""The drills' sounds, synthesised here with NumPy: nothing is downloaded or fetched.

* :func:`shutter_wav`: a camera shutter (two short clicks of filtered noise, ~0.15 s);
* :func:`chime_wav`: a soft two-tone chime (the look is held; the cue when no voice speaks).

Both are 16-bit mono WAV bytes at :data:`RATE` Hz, deterministic (a fixed noise seed), small
enough (~7 and ~20 KiB) to embed in the page as ``data:`` URIs (:func:`data_uri`).
"""

from __future__ import annotations

import base64
import functools
import io
import wave

import numpy as np

RATE = 22_050


def _wav(samples: np.ndarray) -> bytes:
    pcm = (np.clip(samples, -1.0, 1.0) * 32767 * 0.8).astype("<i2")
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(RATE)
        w.writeframes(pcm.tobytes())
    return buf.getvalue()


def _click(n: int, rng: np.random.Generator, decay_s: float) -> np.ndarray:
    t = np.arange(n) / RATE
    noise = rng.standard_normal(n)
    noise = np.convolve(noise, np.ones(4) / 4, mode="same")  # a touch less hiss
    return noise * np.exp(-t / decay_s)


@functools.cache
def shutter_wav() -> bytes:
    """A mechanical shutter: the first curtain, ~70 ms, the second (softer)."""
    rng = np.random.default_rng(7)
    out = np.zeros(int(0.16 * RATE))
    first = _click(int(0.05 * RATE), rng, 0.008)
    second = 0.7 * _click(int(0.05 * RATE), rng, 0.012)
    at = int(0.07 * RATE)
    out[: first.size] += first
    out[at : at + second.size] += second
    return _wav(out / max(1e-9, np.abs(out).max()))


@functools.cache
def chime_wav() -> bytes:
    """A soft chime: 880 Hz and 1320 Hz (a fifth), fading over ~0.45 s."""
    t = np.arange(int(0.45 * RATE)) / RATE
    tone = np.sin(2 * np.pi * 880 * t) + 0.5 * np.sin(2 * np.pi * 1320 * t)
    envelope = np.minimum(1.0, t / 0.01) * np.exp(-t / 0.15)
    return _wav(tone * envelope / 1.5)


def data_uri(wav: bytes) -> str:
    """``data:audio/wav;base64,...``: the sound inside the page (no request is made)."""
    return "data:audio/wav;base64," + base64.b64encode(wav).decode("ascii")
