"""End to end in a real headless browser: Chromium's fake camera plays a real face clip into
the Streamlit page over WebRTC, and the page must coach it live.

Needs Debian's ``chromium`` (/usr/bin/chromium; CI installs it) and the ``playwright`` Python
package (no Playwright browser download), plus ../shared/media. Run it alone with::

    .venv/bin/pytest -m browser tests/test_browser.py -s

Screenshots of the live page are saved to ``artifacts/`` (``browser_live.png``,
``browser_calibration.png``, ``browser_camera_*.png``).

Besides coaching, it checks that the page loads nothing from outside this machine, that a
live calibration shows its prompts, countdown and feedback, and that a blocked or missing
camera is explained with the way out (practising on a video).
"""

from __future__ import annotations

import os
import re
import socket
import urllib.parse
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from liveprobe import CAPTURE_PEER_CONNECTIONS, SAMPLE_JS, delays, is_loopback, sample_js_args, stamp, udp_sockets

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parent.parent
CLIP = ROOT.parent / "shared" / "media" / "single_face.mp4"
CHROMIUM = Path(os.environ.get("POSECOACH_CHROMIUM", "/usr/bin/chromium"))
ARTIFACTS = ROOT / "artifacts"
#: START clicks in the test. streamlit-webrtc's stale-state race dropped roughly one call in
#: ten right after START; several clicks make a regression of our workaround show up.
STARTS = 5
#: The fake camera runs at 30 fps; processing must keep up with most of it. The issue asks for
#: "camera rate": alone on this machine the page processes ~28 fps; the floor leaves room for a
#: busy machine (it measured 16-19 fps with two other test suites running beside it).
MIN_FPS = float(os.environ.get("POSECOACH_MIN_FPS", "12"))
#: Its cue follows the clip: "Bigger smile..." while neutral, "Lovely, hold that" once smiling.
TARGET_TITLE = "Friendly profile photo"
STATS_RE = re.compile(r"processed (\d+) frames · ([\d.]+) fps · ([\d.]+) ms/frame \(overlay ([\d.]+) ms\)")
SKIPPED_RE = re.compile(r"(\d+) skipped")
#: Processed frames over frames the camera sent, in the measured window: the goal alone on this
#: machine is >= 0.95; the floor leaves room for a shared, busy machine (as MIN_FPS does).
MIN_PROCESSED_SHARE = float(os.environ.get("POSECOACH_MIN_PROCESSED_SHARE", "0.5"))
#: Seconds of the delay and processed-share measurement.
MEASURE_S = 15

if not CHROMIUM.is_file():
    pytest.skip(f"chromium not found at {CHROMIUM} (apt-get install chromium)", allow_module_level=True)
if not CLIP.is_file():
    pytest.skip(f"real face media not found at {CLIP.parent} (see ../shared/media)", allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api", reason="the playwright Python package is not installed")


# -- fixtures ------------------------------------------------------------------------------------
def _clip_frames() -> list:
    """single_face.mp4's frames, 640x360 BGR."""
    import cv2

    cap = cv2.VideoCapture(str(CLIP))
    frames = []
    while True:
        ok, frame = cap.read()
        if not ok:
            break
        if frame.shape[:2] != (360, 640):
            frame = cv2.resize(frame, (640, 360), interpolation=cv2.INTER_AREA)
        frames.append(frame)
    cap.release()
    assert len(frames) > 30, f"could not decode {CLIP}"
    return frames


def _write_y4m(path: Path, frames: Iterable) -> Path:
    """The Y4M file (30 fps, 640x360) Chromium's fake camera plays, and loops."""
    import cv2

    with path.open("wb") as f:
        f.write(b"YUV4MPEG2 W640 H360 F30:1 Ip A1:1 C420jpeg\n")
        for frame in frames:
            f.write(b"FRAME\n")
            f.write(cv2.cvtColor(frame, cv2.COLOR_BGR2YUV_I420).tobytes())
    return path


def _y4m_frames(path: Path) -> int:
    """Frames in a Y4M file written by :func:`_write_y4m` (the fake camera loops after them)."""
    header = path.open("rb").readline()
    return (path.stat().st_size - len(header)) // (len(b"FRAME\n") + 640 * 360 * 3 // 2)


#: The fake camera's order of single_face.mp4's frames: its neutral start (frames 0-15) played
#: forward and back (1.1 s), then the rest (the smile). The clip's own 0.6 s of neutral makes
#: "Bigger smile" the cue for only 4 frames (133 ms) of each 2.4 s loop, which the panel,
#: redrawn once a second, showed in no poll of 30 s on a loaded machine. Simulated 1 Hz polls
#: of the live coach's per-frame score and cue (offline, 30 fps) pass the test's check in 30 s
#: 83 % of the time with the clip as is; with this order in 60 s, 99.9 %.
NEUTRAL_HELD = (*range(0, 16), *range(15, -1, -1))


@pytest.fixture(scope="module")
def fake_camera_clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """single_face.mp4 as the fake camera: neutral ~1.1 s (:data:`NEUTRAL_HELD`), then a broad
    smile ~1.8 s; loops every 2.9 s. Each frame carries its index in the file in a strip at the
    top (:func:`liveprobe.stamp`)."""
    clip = _clip_frames()
    order = [*NEUTRAL_HELD, *range(16, len(clip))]
    frames = [stamp(clip[k].copy(), i) for i, k in enumerate(order)]
    return _write_y4m(tmp_path_factory.mktemp("camera") / "single_face.y4m", frames)


#: A fake camera for a whole live calibration (without the eyes-closed step): the clip's
#: person following the prompts of a calibration started *before* START (2 s countdown, 3 s
#: neutral, 2 s countdown, 3 s smile, timed from the first frame the server gets). The switch
#: from neutral to smile at 7.5 s of the file sits between the two recordings, so a connection
#: set-up of 0.5 to 2.5 s (measured: about 2 s on a busy machine) keeps each recording inside
#: its part, and the phases' medians forgive a second more either way. Frames 0-15 of the clip
#: are neutral, 36-65 a big smile.
CALIBRATION_SCRIPT = ((7.5, range(0, 16)), (20.0, range(36, 66)))


@pytest.fixture(scope="module")
def calibration_camera_clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    clip = _clip_frames()

    def frames() -> Iterator:
        end_s = CALIBRATION_SCRIPT[-1][0]
        for i in range(int(end_s * 30)):
            pool = next(pool for until, pool in CALIBRATION_SCRIPT if i / 30 < until)
            yield clip[pool[i % len(pool)]]

    return _write_y4m(tmp_path_factory.mktemp("camera") / "calibration.y4m", frames())


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Server:
    url: str
    log: Path
    process: subprocess.Popen

    def output(self) -> str:
        return self.log.read_text(errors="replace")


@pytest.fixture(scope="module")
def profile_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where the server keeps calibration profiles during the test (never the repository's)."""
    return tmp_path_factory.mktemp("profiles")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, profile_dir: Path) -> Iterator[Server]:
    """``streamlit run streamlit_app.py`` on a free port; its output is checked at the end."""
    port = _free_port()
    log = tmp_path_factory.mktemp("server") / "streamlit.log"
    env = {k: v for k, v in os.environ.items() if k not in ("POSECOACH_ICE_SERVERS", "POSECOACH_MODEL")}
    env["PYTHONUNBUFFERED"] = "1"
    env["POSECOACH_CALIBRATION_DIR"] = str(profile_dir)
    cmd = [sys.executable, "-m", "streamlit", "run", "streamlit_app.py", "--server.port", str(port),
           "--server.address", "127.0.0.1", "--server.headless", "true", "--server.fileWatcherType", "none"]  # fmt: skip
    with log.open("wb") as out:
        process = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    server = Server(url, log, process)
    try:
        wait_for(lambda: _healthy(url) or process.poll() is not None, 90, "the Streamlit server to start")
        assert process.poll() is None, f"streamlit exited with {process.returncode}:\n{server.output()}"
        yield server
    finally:
        process.terminate()
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
            return r.status == 200
    except OSError:
        return False


#: Chromium flags for every browser here; the camera flags are added per test.
BROWSER_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--autoplay-policy=no-user-gesture-required",
    "--disable-quic",
]


@pytest.fixture(scope="module")
def playwright() -> Iterator[object]:
    with sync_api.sync_playwright() as p:
        yield p


@pytest.fixture(scope="module")
def browser(playwright, fake_camera_clip: Path) -> Iterator[object]:  # noqa: ANN001
    """Chromium whose camera is the clip, allowed without asking."""
    args = [
        "--use-fake-ui-for-media-stream",
        "--use-fake-device-for-media-stream",
        f"--use-file-for-fake-video-capture={fake_camera_clip}",
        *BROWSER_ARGS,
    ]
    b = playwright.chromium.launch(executable_path=str(CHROMIUM), args=args, headless=True)
    try:
        yield b
    finally:
        b.close()


@pytest.fixture
def context(browser) -> Iterator[object]:  # noqa: ANN001
    """A fresh context on the fake-camera browser, closed even when the test fails (a page
    left streaming would load the server for the tests after it)."""
    ctx = browser.new_context(viewport={"width": 1400, "height": 1500})
    try:
        yield ctx
    finally:
        close_quietly(ctx)


def close_quietly(context) -> None:  # noqa: ANN001
    """Leave the page before closing: the stream and the page's timers stop first, so the
    server is not mid-message when the connection goes (also when a test failed mid-way)."""
    for page in context.pages:
        try:
            page.goto("about:blank", timeout=10_000)
        except sync_api.Error:
            pass
    context.close()


def watch_outside_requests(page) -> list[str]:  # noqa: ANN001
    """Collects every request the page makes to anything but this machine."""
    outside: list[str] = []

    def on_request(request) -> None:  # noqa: ANN001
        url = urllib.parse.urlsplit(request.url)
        if url.scheme in ("http", "https", "ws", "wss") and url.hostname not in ("127.0.0.1", "localhost", "::1"):
            outside.append(request.url)

    page.on("request", on_request)
    return outside


# -- helpers -------------------------------------------------------------------------------------
def tracebacks(output: str) -> list[str]:
    """Every Python traceback in the server's output, from its header to its exception line."""
    lines = output.splitlines()
    found = []
    i = 0
    while i < len(lines):
        if lines[i].startswith("Traceback (most recent call last):"):
            j = i + 1
            while j < len(lines) and lines[j].startswith(" "):
                j += 1
            found.append("\n".join(lines[i : j + 1]))
            i = j + 1
        else:
            i += 1
    return found


def unexpected_tracebacks(output: str) -> list[str]:
    """The tracebacks that are not Streamlit's own websocket-close race.

    Streamlit 1.67's Starlette websocket endpoint (``starlette_websocket.py``,
    ``_websocket_endpoint``) sometimes logs a traceback when a browser tab goes away while
    the server is still sending: ``receive_bytes`` raises ``WebSocketDisconnected``, which it
    takes for a text frame, and its ``close()`` raises again. Seen here only with several
    tabs streaming on a busy machine; nothing of posecoach is involved.
    """
    return [
        tb for tb in tracebacks(output)
        if not ("/streamlit/web/server/starlette/starlette_websocket.py" in tb
                and tb.rsplit("\n", 1)[-1].startswith("starlette.websockets.WebSocketDisconnected"))
    ]  # fmt: skip



def wait_for(condition: Callable[[], object], timeout_s: float, what: str, every_s: float = 0.2) -> object:
    """Poll ``condition`` until it returns something truthy; fail naming ``what``."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout_s:.0f} s waiting for {what}")
        time.sleep(every_s)


@dataclass(frozen=True)
class Stats:
    frames: int
    fps: float
    process_ms: float
    overlay_ms: float


class LivePage:
    """The page as a person sees it: the camera component and the live panel."""

    def __init__(self, page) -> None:  # noqa: ANN001
        self.page = page
        self.component = page.frame_locator('iframe[title="streamlit_webrtc.component.webrtc_streamer"]')

    def text(self, key: str) -> str:
        """The text of the element with ``key`` (a keyed container), "" if absent."""
        loc = self.page.locator(f".st-key-{key}")
        try:
            return loc.first.inner_text(timeout=2000) if loc.count() else ""
        except sync_api.Error:  # re-rendered between count and read
            return ""

    def stats(self) -> Stats | None:
        m = STATS_RE.search(self.text("pc-stats"))
        return Stats(int(m[1]), float(m[2]), float(m[3]), float(m[4])) if m else None

    def frames(self) -> int:
        s = self.stats()
        return s.frames if s else -1

    def counts(self) -> tuple[int, int]:
        """Frames processed and skipped, as the page shows them."""
        text = self.text("pc-stats")
        m, k = STATS_RE.search(text), SKIPPED_RE.search(text)
        return (int(m[1]) if m else -1), (int(k[1]) if k else 0)

    def score(self) -> str:
        m = re.search(r"Score\s*(\S+)", self.text("pc-score"))
        return m[1] if m else ""

    def cue(self) -> str:
        return self.text("pc-cue").strip()

    def choose_target(self, title: str) -> None:
        self.page.get_by_test_id("stSelectbox").first.click()
        self.page.get_by_role("option", name=title).click()
        picker = self.page.get_by_test_id("stSelectbox").first
        wait_for(lambda: title in picker.inner_text() + picker.locator("input").first.input_value(), 30,
                 f"the target picker to show {title!r}")  # fmt: skip
        wait_for(lambda: self.button("START").count() > 0, 60, "the page to settle after choosing the target")

    def holds(self) -> int:
        m = re.search(r"Holds\s*(\d+)", self.page.locator("[data-testid=stMetric]").nth(1).inner_text())
        return int(m[1]) if m else -1

    def button(self, name: str):  # noqa: ANN201
        # The label's case depends on CSS (text-transform), so match it case-insensitively.
        return self.component.get_by_role("button", name=re.compile(rf"^{name}$", re.I))

    def start(self) -> None:
        self.button("START").click(timeout=60_000)
        wait_for(lambda: self.button("STOP").count() > 0, 60, "the STOP button after START")

    def leave_calibration(self, timeout_s: float = 60) -> None:
        """Press "Cancel calibration" (or "Back to coaching", or a stopped calibration's
        "Cancel") until the coaching panel, with its frame counter, is back. A click that lands
        while the page re-renders may be lost, so it is repeated."""
        leave = self.page.get_by_role("button", name=re.compile(r"^(Cancel calibration|Back to coaching|Cancel)$"))

        def back() -> bool:
            if self.frames() > 0:
                return True
            if leave.count():
                try:
                    leave.first.click(timeout=5_000)
                except sync_api.Error:
                    pass
            return False

        wait_for(back, timeout_s, "the coaching panel after leaving the calibration", every_s=3.0)

    def stop(self) -> None:
        self.button("STOP").click(timeout=30_000)
        wait_for(lambda: self.button("START").count() > 0, 30, "the START button after STOP")

    def video_state(self) -> dict:
        return self.component.locator("video").first.evaluate(
            """v => {
                const c = document.createElement('canvas');
                c.width = 64; c.height = 36;
                const g = c.getContext('2d');
                let mean = 0, sd = 0;
                if (v.videoWidth > 0) {
                    g.drawImage(v, 0, 0, 64, 36);
                    const d = g.getImageData(0, 0, 64, 36).data;
                    const lum = [];
                    for (let i = 0; i < d.length; i += 4) lum.push((d[i] + d[i + 1] + d[i + 2]) / 3);
                    mean = lum.reduce((a, b) => a + b, 0) / lum.length;
                    sd = Math.sqrt(lum.reduce((a, b) => a + (b - mean) ** 2, 0) / lum.length);
                }
                return {width: v.videoWidth, height: v.videoHeight, time: v.currentTime, mean, sd};
            }"""
        )


def wait_frames_beyond(live: LivePage, start: int, count: int, timeout_s: float = 60) -> int:
    return wait_for(lambda: (n := live.frames()) >= start + count and n, timeout_s,
                    f"{count} more processed frames (from {start})")  # fmt: skip


def wait_frames_settled(live: LivePage, quiet_s: float = 1.5, timeout_s: float = 20) -> int:
    """After STOP: the counter stops moving (the panel may show a value up to a poll old)."""
    last = [live.frames(), time.monotonic()]

    def settled() -> bool:
        n = live.frames()
        if n != last[0]:
            last[:] = [n, time.monotonic()]
            return False
        return time.monotonic() - last[1] >= quiet_s

    wait_for(settled, timeout_s, "processing to stop with the stream", every_s=0.25)
    return last[0]


# -- the test ------------------------------------------------------------------------------------
def test_live_camera_coaching_in_a_real_browser(server: Server, context, fake_camera_clip: Path) -> None:  # noqa: ANN001
    page = context.new_page()
    page.set_default_timeout(30_000)
    page.add_init_script(CAPTURE_PEER_CONNECTIONS)  # to read the camera's own track and its stats
    outside = watch_outside_requests(page)
    page.goto(server.url, wait_until="domcontentloaded", timeout=60_000)
    live = LivePage(page)
    wait_for(lambda: live.button("START").count() > 0, 90, "the camera component's START button")
    # The panel is drawn beside the component, not before its button: wait for its counter.
    wait_for(lambda: live.frames() >= 0, 30, "the live panel's frame counter")
    assert live.frames() == 0, "nothing is processed before START"
    # A target whose cue follows the smile (the clip is straight-on: neutral, then smiling).
    live.choose_target(TARGET_TITLE)

    # 1. START: frames flow at camera rate, and the processed picture comes back.
    live.start()
    wait_frames_beyond(live, 0, 30)
    rates: list[float] = []

    def keeps_up() -> bool:
        # Frames processed over a 3 s window; the best window of up to 20 s counts, so a
        # burst of load from something else on a shared machine does not fail the test.
        t0, n0 = time.monotonic(), live.frames()
        time.sleep(3.0)
        rates.append((live.frames() - n0) / (time.monotonic() - t0))
        return rates[-1] >= MIN_FPS

    kept_up = any(keeps_up() for _ in range(7))
    stats = live.stats()
    print(f"\nbrowser: processed frames/s in 3 s windows {[round(r, 1) for r in rates]}; page reports {stats}")
    assert kept_up, f"processed at most {max(rates):.1f} frames/s, expected >= {MIN_FPS} (camera: 30)"
    video = wait_for(lambda: (v := live.video_state())["width"] > 0 and v["time"] > 0 and v, 30,
                     "the processed video to play in the page")  # fmt: skip
    time.sleep(1.0)
    later = live.video_state()
    # 640x360 as the camera sends it; WebRTC scales the returned video down (16:9 kept) when
    # the machine is too busy to encode it in time.
    assert video["width"] * 9 == video["height"] * 16 and 320 <= video["width"] <= 640, video
    assert later["time"] > video["time"], "the returned video keeps playing"
    assert later["sd"] > 10, f"the returned video shows a picture, not a blank frame: {later}"

    # How well the live path keeps up: frames processed of those the camera sent, frames
    # skipped, and the delay from a camera frame to its annotated frame in the page.
    (n0, skipped0) = live.counts()
    probe = live.component.locator("video").first.evaluate(SAMPLE_JS, sample_js_args(MEASURE_S * 1000),
                                                           timeout=(MEASURE_S + 30) * 1000)  # fmt: skip
    (n1, skipped1) = live.counts()
    assert "error" not in probe, probe
    delay = delays(probe["samples"], _y4m_frames(fake_camera_clip))
    processed, skipped = n1 - n0, skipped1 - skipped0
    share = processed / probe["sent"] if probe["sent"] else 0.0
    print(f"browser: in {probe['seconds']:.1f} s the camera sent {probe['sent']} frames "
          f"({probe['sent'] / probe['seconds']:.1f} fps), the page processed {processed} ({share:.1%}) and "
          f"skipped {skipped} ({skipped / max(1, processed + skipped):.1%}); returned video "
          f"{probe['width']}x{probe['height']}; camera-to-page delay p50 {delay.p50:.0f} ms, "
          f"p90 {delay.p90:.0f} ms ({len(delay.samples_ms)} readings, {delay.unreadable} unreadable); "
          f"browser WebRTC {probe['rtp']}")  # fmt: skip
    assert len(delay.samples_ms) >= 0.5 * len(probe["samples"]), "the frame codes were not readable in the page"
    assert share >= MIN_PROCESSED_SHARE, f"processed {share:.0%} of the camera's frames (floor {MIN_PROCESSED_SHARE:.0%})"

    # While streaming: WebRTC's media sockets listen on loopback only (the page is served on it).
    sockets = udp_sockets(server.process.pid)
    print(f"browser: the server's UDP sockets while streaming: {sockets}")
    assert sockets, "streaming, yet the server has no UDP socket: the check would prove nothing"
    assert all(is_loopback(a) for a in sockets), f"WebRTC listens beyond loopback: {sockets}"

    # 2. Score and cue change as the clip goes from neutral to smiling (it loops every 2.9 s).
    scores: set[str] = set()
    cues: set[str] = set()

    def varied() -> bool:
        s, c = live.score(), live.cue()
        if s.isdigit():
            scores.add(s)
        if c:
            cues.add(c)
        values = [int(s) for s in scores]
        return len(cues) >= 2 and len(values) >= 3 and max(values) - min(values) >= 10

    try:
        # 60 s: the panel shows one score and cue a second, and the score sits at two values
        # (neutral, smile) but for ~8 frames of each loop (see NEUTRAL_HELD).
        wait_for(varied, 60, "the score and the cue to change with the clip", every_s=0.15)
    finally:
        print(f"browser: scores seen {sorted(scores, key=int)}; cues seen {sorted(cues)}")
    # The smile is held long enough for a hold: its best frame lands in the gallery.
    wait_for(lambda: live.holds() >= 1, 30, "a hold to be counted")
    wait_for(lambda: page.get_by_role("button", name=re.compile("Download all")).count() > 0, 30,
             "the gallery's zip download")  # fmt: skip
    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / "browser_live.png"
    page.screenshot(path=str(shot), full_page=True)

    # 3. STOP, then START again (several times: the upstream race dropped calls after START).
    for cycle in range(1, STARTS):
        live.stop()
        stopped = wait_frames_settled(live)
        live.start()
        resumed = wait_frames_beyond(live, stopped, 45)
        time.sleep(2.0)
        assert live.button("STOP").count() > 0, f"the call dropped after START #{cycle + 1}"
        # The counter is redrawn once a second, later on a loaded machine: wait for its next
        # value rather than read it once (a dropped call never moves it again).
        wait_frames_beyond(live, resumed, 1, 30)
    live.stop()
    assert outside == [], f"the page loaded something from outside this machine: {outside}"

    output = server.output()
    assert unexpected_tracebacks(output) == [], output[-4000:]
    assert "live frame failed" not in output, output[-4000:]
    assert "Error occurred in the WebRTC thread" not in output, output[-4000:]
    assert shot.is_file() and shot.stat().st_size > 10_000
    suppressed = output.count("stale-state reset suppressed")
    print(f"browser: {STARTS} STARTs; upstream stale-state resets suppressed: {suppressed}")


def test_live_calibration_shows_prompts_countdown_and_feedback(
    server: Server, context, profile_dir: Path  # noqa: ANN001
) -> None:
    """A live calibration on the fake camera. The clip loops every 2.9 s (neutral ~1.1 s, then a
    broad smile), so a timed phase may well be rejected: the test asserts what the person is
    shown (prompts, a countdown, each phase's outcome), not that the calibration succeeds."""
    page = context.new_page()
    page.set_default_timeout(30_000)
    outside = watch_outside_requests(page)
    page.goto(server.url, wait_until="domcontentloaded", timeout=60_000)
    live = LivePage(page)
    wait_for(lambda: live.button("START").count() > 0, 90, "the camera component's START button")
    live.start()
    wait_frames_beyond(live, 0, 15)

    page.get_by_role("button", name="Calibrate…").click()
    name = page.get_by_role("textbox", name="Your name")
    name.fill("browser_test")
    name.press("Enter")
    start = page.get_by_role("button", name="Start calibration")
    wait_for(lambda: start.is_enabled(), 30, "the Start calibration button to accept the name")
    start.click()

    prompts: set[str] = set()
    countdowns: set[str] = set()
    feedback: list[str] = []

    def watch() -> bool:
        prompts.add(live.text("pc-cal-prompt").strip())
        countdowns.add(live.text("pc-cal-countdown").strip())
        said = live.text("pc-cal-feedback").strip()
        if said and said not in feedback:
            feedback.append(said)
        return len(feedback) >= 2 or any(f.startswith("Calibrated for") for f in feedback)

    try:
        wait_for(watch, 60, "the first two phases' feedback", every_s=0.15)
    finally:
        print(f"\nbrowser calibration: prompts {sorted(prompts)}; countdowns {sorted(countdowns)}; feedback {feedback}")
    assert "Get ready: relax your face and look straight into the lens" in prompts
    assert "Relax your face and look straight into the lens" in prompts
    assert any(c.startswith("Starts in ") for c in countdowns) and any(c.startswith("Recording: ") for c in countdowns)
    assert feedback[0].startswith("Neutral face: "), feedback
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "browser_calibration.png"), full_page=True)

    # STOP in the middle: the step under way starts over with the next START; the steps
    # already done are kept. The calibration runs on while the STOP travels (the next step is
    # 4 s away at least), so it may also end first: done, or stopped after a third rejection.
    live.stop()
    ended = page.get_by_text(re.compile(r"Calibration (done|stopped)"))
    # Wait for the page to show the camera stopped: a "Get ready" prompt alone may be the
    # next step's own countdown, drawn before the page saw the STOP.
    waiting = page.get_by_text("the calibration begins with the first frame")
    wait_for(lambda: waiting.count() > 0 or ended.count() > 0, 30, "the page to see the STOP")
    print(f"browser calibration after STOP: {'ended first' if ended.count() else 'the step starts over'}")
    if ended.count():
        live.leave_calibration()
    else:
        assert live.text("pc-cal-prompt").startswith("Get ready: ")
        assert "Starts in 2" in live.text("pc-cal-countdown")
        if feedback[0].startswith("Neutral face: done"):
            assert "relax your face" not in live.text("pc-cal-prompt"), "the neutral step done is kept"
        live.start()
        wait_for(lambda: live.text("pc-cal-countdown").strip() not in ("", "Starts in 2"), 60,
                 "the calibration to run again after START")  # fmt: skip
        live.leave_calibration()
        live.stop()
    assert outside == [], f"the page loaded something from outside this machine: {outside}"
    assert {p.name for p in profile_dir.iterdir()} <= {"browser_test.json"}


@pytest.mark.parametrize(
    ("case", "camera_args", "error"),
    [
        # A camera exists, but the person (here: the browser context) does not allow it.
        ("denied", ["--use-fake-device-for-media-stream"], "NotAllowedError"),
        # Allowed, but there is no camera at all.
        ("missing", ["--use-fake-ui-for-media-stream"], "NotFoundError"),
    ],
)
def test_a_blocked_or_missing_camera_is_explained(
    server: Server, playwright, case: str, camera_args: list[str], error: str  # noqa: ANN001
) -> None:
    b = playwright.chromium.launch(executable_path=str(CHROMIUM), args=[*camera_args, *BROWSER_ARGS], headless=True)
    try:
        context = b.new_context(viewport={"width": 1400, "height": 1100}, permissions=[])
        page = context.new_page()
        page.set_default_timeout(30_000)
        page.goto(server.url, wait_until="domcontentloaded", timeout=60_000)
        live = LivePage(page)
        live.button("START").click(timeout=90_000)
        # The component shows the browser's error; the page explains it beside it.
        wait_for(lambda: error in live.component.locator("body").inner_text(), 30, f"the component to report {error}")
        help_text = live.text("pc-camera-help")
        assert error in help_text and "Practise on a video instead" in help_text, help_text
        assert live.button("START").count() > 0, "the camera never started"
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"browser_camera_{case}.png"), full_page=True)
        page.get_by_role("button", name="Practise on a video instead").click()
        wait_for(lambda: page.get_by_text("A clip of your face").count() > 0, 30, "the upload-a-video page")
        close_quietly(context)
    finally:
        b.close()


def test_live_calibration_in_the_browser_saves_and_applies_a_profile(
    server: Server, playwright, calibration_camera_clip: Path, profile_dir: Path  # noqa: ANN001
) -> None:
    """The whole live calibration: set up before START, follow the prompts (the fake camera
    does), then the profile is saved, made active, and shown before/after."""
    args = [
        "--use-fake-ui-for-media-stream",
        "--use-fake-device-for-media-stream",
        f"--use-file-for-fake-video-capture={calibration_camera_clip}",
        *BROWSER_ARGS,
    ]
    b = playwright.chromium.launch(executable_path=str(CHROMIUM), args=args, headless=True)
    try:
        context = b.new_context(viewport={"width": 1400, "height": 1300})
        page = context.new_page()
        page.set_default_timeout(30_000)
        outside = watch_outside_requests(page)
        page.goto(server.url, wait_until="domcontentloaded", timeout=60_000)
        live = LivePage(page)
        wait_for(lambda: live.button("START").count() > 0, 90, "the camera component's START button")
        page.get_by_role("button", name="Calibrate…").click()
        name = page.get_by_role("textbox", name="Your name")
        name.fill("ana_live")
        name.press("Enter")
        page.get_by_text("Include the eyes-closed step").click()  # the fake camera has no closed eyes
        start = page.get_by_role("button", name="Start calibration")
        wait_for(lambda: start.is_enabled(), 30, "the Start calibration button to accept the name")
        start.click()
        wait_for(lambda: "Get ready: relax your face" in live.text("pc-cal-prompt"), 30, "the first prompt")
        assert page.get_by_text("step 1 of 2: Neutral face").count() > 0, "two steps: no eyes-closed step"
        wait_for(lambda: page.get_by_text("the calibration begins with the first frame").count() > 0, 30,
                 "the hint to press START")  # fmt: skip
        live.start()
        seen: list[str] = []

        def finished() -> bool:
            said = live.text("pc-cal-feedback").strip()
            if said and said not in seen:
                seen.append(said)
            return said.startswith("Calibrated for ana_live") or page.get_by_text("Calibration stopped").count() > 0

        try:
            wait_for(finished, 90, "the calibration to finish", every_s=0.2)
        finally:
            print(f"\nbrowser live calibration: {seen}")
        assert seen[-1].startswith("Calibrated for ana_live: saved to "), seen
        assert (profile_dir / "ana_live.json").is_file()
        wait_for(lambda: "Calibrated for ana_live" in live.text("pc-calibration-status"), 30, "the calibrated badge")
        words = ("Relaxed", "Big smile", "Now", "Smile", "Eyes open", "\u2192")
        table = wait_for(lambda: (t := live.text("pc-before-after")) and all(w in t for w in words) and t, 30,
                         "the before/after table")  # fmt: skip
        assert "Chin up / down" in table
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "browser_calibration_done.png"), full_page=True)
        # Back to coaching, now calibrated for ana_live (the expander is drawn just after the
        # frame counter that leave_calibration waits for).
        live.leave_calibration()
        wait_for(lambda: page.get_by_text("Calibration for ana_live: before / after").count() > 0, 30,
                 "the coaching panel's before/after for ana_live")  # fmt: skip
        live.stop()
        close_quietly(context)
        assert outside == [], f"the page loaded something from outside this machine: {outside}"
    finally:
        b.close()


def test_server_shuts_down_cleanly(server: Server) -> None:
    """Stopping the server closes the landmarkers without a traceback (runs after the live test)."""
    server.process.terminate()
    server.process.wait(30)
    output = server.output()
    assert unexpected_tracebacks(output) == [], output[-4000:]
    assert "Exception ignored" not in output, output[-4000:]
    print(f"\nbrowser: upstream websocket-close tracebacks ignored: {len(tracebacks(output))}")

