"""End to end in a real headless browser: Chromium's fake camera plays a real face clip into
the Streamlit page over WebRTC, and the page must coach it live.

Needs Debian's ``chromium`` (/usr/bin/chromium; CI installs it) and the ``playwright`` Python
package (no Playwright browser download), plus ../shared/media. Run it alone with::

    .venv/bin/pytest -m browser tests/test_browser.py -s

A screenshot of the live page is saved to ``artifacts/browser_live.png``.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

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
MIN_FPS = float(os.environ.get("POSECOACH_MIN_FPS", "15"))
#: Its cue follows the clip: "Bigger smile..." while neutral, "Lovely, hold that" once smiling.
TARGET_TITLE = "Friendly profile photo"
STATS_RE = re.compile(r"processed (\d+) frames · ([\d.]+) fps · ([\d.]+) ms/frame \(overlay ([\d.]+) ms\)")

if not CHROMIUM.is_file():
    pytest.skip(f"chromium not found at {CHROMIUM} (apt-get install chromium)", allow_module_level=True)
if not CLIP.is_file():
    pytest.skip(f"real face media not found at {CLIP.parent} (see ../shared/media)", allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api", reason="the playwright Python package is not installed")


# -- fixtures ------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def fake_camera_clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """single_face.mp4 as the Y4M file Chromium's fake camera plays (and loops)."""
    import cv2

    path = tmp_path_factory.mktemp("camera") / "single_face.y4m"
    cap = cv2.VideoCapture(str(CLIP))
    frames = 0
    with path.open("wb") as f:
        f.write(b"YUV4MPEG2 W640 H360 F30:1 Ip A1:1 C420jpeg\n")
        while True:
            ok, frame = cap.read()
            if not ok:
                break
            if frame.shape[:2] != (360, 640):
                frame = cv2.resize(frame, (640, 360), interpolation=cv2.INTER_AREA)
            f.write(b"FRAME\n")
            f.write(cv2.cvtColor(frame, cv2.COLOR_BGR2YUV_I420).tobytes())
            frames += 1
    cap.release()
    assert frames > 30, f"could not decode {CLIP}"
    return path


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
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """``streamlit run streamlit_app.py`` on a free port; its output is checked at the end."""
    port = _free_port()
    log = tmp_path_factory.mktemp("server") / "streamlit.log"
    env = {k: v for k, v in os.environ.items() if k not in ("POSECOACH_ICE_SERVERS", "POSECOACH_MODEL")}
    env["PYTHONUNBUFFERED"] = "1"
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


@pytest.fixture(scope="module")
def browser(fake_camera_clip: Path) -> Iterator[object]:
    args = [
        "--use-fake-ui-for-media-stream",
        "--use-fake-device-for-media-stream",
        f"--use-file-for-fake-video-capture={fake_camera_clip}",
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
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=args, headless=True)
        try:
            yield b
        finally:
            b.close()


# -- helpers -------------------------------------------------------------------------------------
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

    def _text(self, key: str) -> str:
        loc = self.page.locator(f".st-key-{key}")
        try:
            return loc.first.inner_text(timeout=2000) if loc.count() else ""
        except sync_api.Error:  # re-rendered between count and read
            return ""

    def stats(self) -> Stats | None:
        m = STATS_RE.search(self._text("pc-stats"))
        return Stats(int(m[1]), float(m[2]), float(m[3]), float(m[4])) if m else None

    def frames(self) -> int:
        s = self.stats()
        return s.frames if s else -1

    def score(self) -> str:
        m = re.search(r"Score\s*(\S+)", self._text("pc-score"))
        return m[1] if m else ""

    def cue(self) -> str:
        return self._text("pc-cue").strip()

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
def test_live_camera_coaching_in_a_real_browser(server: Server, browser) -> None:  # noqa: ANN001
    context = browser.new_context(viewport={"width": 1400, "height": 1500})
    page = context.new_page()
    page.set_default_timeout(30_000)
    page.goto(server.url, wait_until="domcontentloaded", timeout=60_000)
    live = LivePage(page)
    wait_for(lambda: live.button("START").count() > 0, 90, "the camera component's START button")
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
    assert (video["width"], video["height"]) == (640, 360)
    assert later["time"] > video["time"], "the returned video keeps playing"
    assert later["sd"] > 10, f"the returned video shows a picture, not a blank frame: {later}"

    # 2. Score and cue change as the clip goes from neutral to smiling (it loops every 2.4 s).
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
        wait_for(varied, 30, "the score and the cue to change with the clip", every_s=0.15)
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
        assert live.frames() > resumed, f"frames stopped flowing after START #{cycle + 1}"
    live.stop()
    context.close()

    output = server.output()
    assert "Traceback" not in output, output[-4000:]
    assert "live frame failed" not in output, output[-4000:]
    assert "Error occurred in the WebRTC thread" not in output, output[-4000:]
    assert shot.is_file() and shot.stat().st_size > 10_000
    suppressed = output.count("stale-state reset suppressed")
    print(f"browser: {STARTS} STARTs; upstream stale-state resets suppressed: {suppressed}")


def test_server_shuts_down_cleanly(server: Server) -> None:
    """Stopping the server closes the landmarkers without a traceback (runs after the live test)."""
    server.process.terminate()
    server.process.wait(30)
    output = server.output()
    assert "Traceback" not in output, output[-4000:]
    assert "Exception ignored" not in output, output[-4000:]

