"""Measuring the live page from outside, for the browser test: a frame counter stamped into the
fake camera's clip and read back from the page, and the UDP sockets a process has open.

Delay: every frame of the fake-camera clip carries its index as a row of black and white
blocks (:func:`stamp`). In the page, the camera's own track (taken from the component's
``RTCPeerConnection``, which :data:`CAPTURE_PEER_CONNECTIONS` records) plays in a hidden video
element beside the returned, annotated video; both are read at the same instant (canvas
``drawImage`` + ``getImageData``), so ``camera index - returned index`` frames is how far the
annotated picture trails the camera. Resolution: one frame (33 ms at 30 fps); the camera's
own preview trails the capture by about a frame too, so the figure errs low by that much.
"""

from __future__ import annotations

import ipaddress
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

#: The code strip: CODE_BLOCKS blocks of BLOCK_W x BLOCK_H pixels at the top of a 640 px wide
#: frame, centred (so the mirrored picture keeps it in place, reversed), clear of the overlay's
#: score bar, hold ring and head-angle guide. The first block is white and the last black:
#: the reader tells a mirrored strip by them. Aligned to VP8's 16 px macroblocks.
BLOCK_W, BLOCK_H, CODE_BLOCKS = 16, 32, 12
STRIP_X = (640 - BLOCK_W * CODE_BLOCKS) // 2
CODE_BITS = CODE_BLOCKS - 2


def stamp(frame: np.ndarray, index: int) -> np.ndarray:
    """``frame`` (640 px wide, BGR) with ``index`` (< 2**CODE_BITS) stamped in, in place."""
    assert frame.shape[1] == 640 and 0 <= index < 2**CODE_BITS
    bits = [1] + [(index >> (CODE_BITS - 1 - k)) & 1 for k in range(CODE_BITS)] + [0]
    for k, bit in enumerate(bits):
        x = STRIP_X + k * BLOCK_W
        frame[:BLOCK_H, x : x + BLOCK_W] = 255 if bit else 0
    return frame


#: An init script: every RTCPeerConnection a frame creates is kept in ``window.__pcPeers``.
CAPTURE_PEER_CONNECTIONS = """
(() => {
    const Native = window.RTCPeerConnection;
    if (!Native || Native.__recorded) return;
    window.__pcPeers = [];
    class Recorded extends Native {
        constructor(...args) { super(...args); window.__pcPeers.push(this); }
    }
    Recorded.__recorded = true;
    window.RTCPeerConnection = Recorded;
})();
"""

#: Run on the returned <video> (inside the component's frame): samples both pictures' codes
#: every ``every_ms`` for ``ms`` and the camera's sent-frame counter around the window.
SAMPLE_JS = """
async (video, opts) => {
    const peers = (window.__pcPeers || []).filter(p => p.connectionState === 'connected');
    if (!peers.length) return {error: 'no connected RTCPeerConnection'};
    const pc = peers[peers.length - 1];
    const sender = pc.getSenders().find(s => s.track && s.track.kind === 'video');
    if (!sender) return {error: 'no video sender'};
    let local = window.__pcLocalVideo;
    if (!local || local.srcObject.getVideoTracks()[0] !== sender.track) {
        local = document.createElement('video');
        local.muted = true; local.playsInline = true;
        local.srcObject = new MediaStream([sender.track]);
        await local.play();
        window.__pcLocalVideo = local;
        await new Promise(r => setTimeout(r, 300));
    }
    const c = document.createElement('canvas');
    c.width = 640; c.height = 360;
    const g = c.getContext('2d', {willReadFrequently: true});
    const [x0, bw, bh, n] = opts.strip;
    const read = v => {
        if (!v.videoWidth) return null;
        g.drawImage(v, 0, 0, 640, 360);
        const d = g.getImageData(x0, 0, bw * n, bh).data;
        let bits = [];
        for (let k = 0; k < n; k++) {
            let s = 0, m = 0;
            for (let y = bh / 4; y < 3 * bh / 4; y++)
                for (let x = k * bw + bw / 4; x < k * bw + 3 * bw / 4; x++) {
                    const i = (y * bw * n + x) * 4;
                    s += d[i] + d[i + 1] + d[i + 2]; m += 3;
                }
            bits.push(s / m > 128 ? 1 : 0);
        }
        if (bits[0] === 0 && bits[n - 1] === 1) bits = bits.reverse();
        else if (!(bits[0] === 1 && bits[n - 1] === 0)) return null;
        return bits.slice(1, n - 1).reduce((a, b) => 2 * a + b, 0);
    };
    const rtp = async () => {
        const out = {};
        (await pc.getStats()).forEach(s => {
            if (s.kind !== 'video') return;
            if (s.type === 'outbound-rtp') Object.assign(out, {sent: s.framesSent, encodeS: s.totalEncodeTime,
                encoded: s.framesEncoded, limit: s.qualityLimitationReason});
            if (s.type === 'inbound-rtp') Object.assign(out, {decoded: s.framesDecoded, dropped: s.framesDropped,
                jitterS: s.jitterBufferDelay, emitted: s.jitterBufferEmittedCount, decodeS: s.totalDecodeTime,
                received: s.framesReceived});
        });
        return out;
    };
    const a = await rtp();
    const t0 = performance.now();
    const samples = [];
    while (performance.now() - t0 < opts.ms) {
        samples.push([read(local), read(video)]);
        await new Promise(r => setTimeout(r, opts.every_ms));
    }
    const b = await rtp();
    const per = (x, n) => (b[n] - a[n]) ? 1000 * (b[x] - a[x]) / (b[n] - a[n]) : null;
    return {samples, sent: b.sent - a.sent, seconds: (performance.now() - t0) / 1000,
            width: video.videoWidth, height: video.videoHeight,
            rtp: {encode_ms: per('encodeS', 'encoded'), limitation: b.limit, returned: b.received - a.received,
                  returned_dropped: b.dropped - a.dropped, jitter_buffer_ms: per('jitterS', 'emitted'),
                  decode_ms: per('decodeS', 'decoded')}};
}
"""


@dataclass(frozen=True)
class Delay:
    """Camera-to-page delays in milliseconds, from code pairs read at the same instants."""

    samples_ms: tuple[float, ...]
    unreadable: int

    @property
    def p50(self) -> float:
        return float(np.percentile(self.samples_ms, 50))

    @property
    def p90(self) -> float:
        return float(np.percentile(self.samples_ms, 90))


def delays(pairs: list[list[int | None]], loop_frames: int, fps: float = 30.0) -> Delay:
    """``[camera index, returned index]`` pairs -> delays; the clip loops every ``loop_frames``."""
    ok = [(a - b) % loop_frames for a, b in pairs if a is not None and b is not None]
    return Delay(tuple(d * 1000.0 / fps for d in ok), len(pairs) - len(ok))


def sample_js_args(ms: int, every_ms: int = 50) -> dict:
    return {"ms": ms, "every_ms": every_ms, "strip": [STRIP_X, BLOCK_W, BLOCK_H, CODE_BLOCKS]}


# -- sockets -------------------------------------------------------------------------------
def udp_sockets(pid: int) -> list[str]:
    """The local addresses (``host:port``) of every UDP socket process ``pid`` has open (Linux:
    its file descriptors' socket inodes looked up in ``/proc/PID/net/udp`` and ``udp6``)."""
    inodes = set()
    fd_dir = Path(f"/proc/{pid}/fd")
    for fd in fd_dir.iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue  # closed meanwhile
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    found = []
    for table, v6 in (("udp", False), ("udp6", True)):
        path = Path(f"/proc/{pid}/net/{table}")
        if not path.is_file():
            continue
        for line in path.read_text().splitlines()[1:]:
            fields = line.split()
            if len(fields) > 9 and fields[9] in inodes:
                found.append(_address(fields[1], v6))
    return found


def _address(hex_addr: str, v6: bool) -> str:
    """``/proc/net/udp``'s ``0100007F:1F90`` -> ``127.0.0.1:8080`` (``[::1]:port`` for IPv6)."""
    host, port = hex_addr.split(":")
    raw = bytes.fromhex(host)
    # The kernel prints each 32-bit word in host (little-endian) order.
    raw = b"".join(raw[i : i + 4][::-1] for i in range(0, len(raw), 4))
    ip = ipaddress.ip_address(raw)
    return f"[{ip}]:{int(port, 16)}" if v6 else f"{ip}:{int(port, 16)}"


def is_loopback(address: str) -> bool:
    """True for ``127.x.x.x``, ``::1`` and IPv4-mapped loopback (``::ffff:127.0.0.1``)."""
    ip = ipaddress.ip_address(address.rsplit(":", 1)[0].strip("[]"))
    mapped = getattr(ip, "ipv4_mapped", None)
    return (mapped or ip).is_loopback
