"""The report, the hand-off card and the History tab in a real headless browser: they render,
load nothing from anywhere, and the card prints on one page.

Needs Debian's ``chromium`` (/usr/bin/chromium) and the ``playwright`` Python package (no
Playwright browser download), plus ../shared/media. Run alone with::

    .venv/bin/pytest -m browser tests/test_report_browser.py

Screenshots are kept in ``artifacts/`` (git-ignored): ``report_session.png``,
``report_card.png``, ``report_card.pdf`` and ``history_tab.png``.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parent.parent
CLIP = ROOT.parent / "shared" / "media" / "single_face.mp4"
CHROMIUM = Path(os.environ.get("POSECOACH_CHROMIUM", "/usr/bin/chromium"))
ARTIFACTS = ROOT / "artifacts"
#: As tests/test_browser.py launches it (no camera needed here).
BROWSER_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]  # fmt: skip

if not CHROMIUM.is_file():
    pytest.skip(f"chromium not found at {CHROMIUM} (apt-get install chromium)", allow_module_level=True)
if not CLIP.is_file():
    pytest.skip(f"real face media not found at {CLIP.parent} (see ../shared/media)", allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api", reason="the playwright Python package is not installed")


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=BROWSER_ARGS, headless=True)
        try:
            yield b
        finally:
            b.close()


def watch_requests(page, allowed: tuple[str, ...]) -> list[str]:  # noqa: ANN001
    """Every request the page makes whose URL does not start with one of ``allowed``."""
    made: list[str] = []
    page.on("request", lambda r: None if r.url.startswith(allowed) else made.append(r.url))
    return made


def kept_sessions(user_dir: Path, runs: list[list[str]]) -> None:
    """``posecoach analyze CLIP --keep ...`` once per run, as a person would type it."""
    env = {**os.environ, "POSECOACH_USER_DIR": str(user_dir)}
    for extra in runs:
        done = subprocess.run([sys.executable, "-m", "posecoach", "analyze", str(CLIP), "--keep", *extra],
                              env=env, capture_output=True, text=True, timeout=300)  # fmt: skip
        assert done.returncode == 0, done.stderr


def test_the_report_and_the_card_render_offline(browser, tmp_path: Path) -> None:  # noqa: ANN001
    from posecoach.history import History

    user = tmp_path / "user"
    kept_sessions(user, [["--target", "friendly_profile", "--keep-pictures"]])
    os.environ["POSECOACH_USER_DIR"] = str(user)  # the autouse fixture restores it
    record = History().get(1)
    from posecoach.reports import render_card, render_report

    ARTIFACTS.mkdir(exist_ok=True)
    for name, html in (("report_session", render_report(record)), ("report_card", render_card(record))):
        path = tmp_path / f"{name}.html"
        path.write_text(html, encoding="utf-8")
        page = browser.new_page(viewport={"width": 1000, "height": 900})
        try:
            outside = watch_requests(page, (path.as_uri(), "data:"))
            page.goto(path.as_uri(), wait_until="load")
            widths = page.eval_on_selector_all("img", "imgs => imgs.map(i => [i.complete, i.naturalWidth])")
            assert widths == [[True, 640]], "the best frame is embedded and decodes"
            page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
            if name == "report_session":
                sections = page.eval_on_selector_all("section", "s => s.map(x => x.id)")
                assert sections == ["summary", "timeline", "best-frames", "cues"]
                box = page.locator("svg.timeline polyline.score").first.bounding_box()
                assert box is not None and box["width"] > 600, "the score line spans the session"
                assert page.locator("svg.timeline g.hold").count() == 1
            else:
                pdf = page.pdf(format="A4", print_background=True)
                (ARTIFACTS / "report_card.pdf").write_bytes(pdf)
                assert pdf.count(b"/Type /Page\n") + pdf.count(b"/Type /Page>") + pdf.count(b"/Type /Page/") == 1, \
                    "the hand-off card prints on one page"  # fmt: skip
            assert outside == [], f"the page made requests: {outside}"
        finally:
            page.close()


# -- the History tab in the app ---------------------------------------------------------------------
def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
            return r.status == 200
    except OSError:
        return False


def wait_for(condition, timeout_s: float, what: str):  # noqa: ANN001, ANN201
    deadline = time.monotonic() + timeout_s
    while not (value := condition()):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout_s:.0f} s waiting for {what}")
        time.sleep(0.2)
    return value


def test_the_history_tab_after_three_kept_sessions(browser, tmp_path: Path) -> None:  # noqa: ANN001
    """Three kept sessions of the clip on the friendly look, asked to hold 1.5, 1 and 0.5 s (so
    the first hold comes sooner from one to the next); the History tab charts them."""
    user = tmp_path / "user"
    kept_sessions(user, [["--target", "friendly_profile", "--hold", s] for s in ("1.5", "1", "0.5")])
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("POSECOACH_ICE_SERVERS", "POSECOACH_MODEL")}
    env.update(POSECOACH_USER_DIR=str(user), POSECOACH_CALIBRATION_DIR=str(tmp_path / "profiles"), PYTHONUNBUFFERED="1")
    cmd = [sys.executable, "-m", "streamlit", "run", "streamlit_app.py", "--server.port", str(port),
           "--server.address", "127.0.0.1", "--server.headless", "true", "--server.fileWatcherType", "none"]  # fmt: skip
    log = tmp_path / "streamlit.log"
    with log.open("wb") as out:
        server = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    page = None
    try:
        wait_for(lambda: _healthy(url) or server.poll() is not None, 90, "the Streamlit server to start")
        assert server.poll() is None, log.read_text()
        page = browser.new_page(viewport={"width": 1300, "height": 1300})
        outside = []
        page.on("request", lambda r: None if urllib.parse.urlsplit(r.url).hostname in ("127.0.0.1", None)
                else outside.append(r.url))  # fmt: skip
        page.goto(url, wait_until="domcontentloaded", timeout=60_000)
        page.get_by_role("tab", name="History").click(timeout=60_000)
        wait_for(lambda: page.get_by_text("3 kept sessions with this look; held in 3.").count(), 60,
                 "the History tab's progress caption")  # fmt: skip
        wait_for(lambda: page.locator("[data-testid=stVegaLiteChart] canvas, [data-testid=stVegaLiteChart] svg")
                 .count() >= 2, 60, "both progress charts")  # fmt: skip
        # The table is drawn after the charts (its grid loads on its own): wait for it, not a sleep.
        testids: list[str] = []

        def table_shown() -> bool:
            testids[:] = page.eval_on_selector_all("[data-testid]", "els => els.map(e => e.dataset.testid)")
            return "stDataFrame" in testids

        try:
            wait_for(table_shown, 30, "the sessions table")
        finally:
            print(f"\nhistory tab: test ids {sorted(set(testids))}")
        time.sleep(1.0)  # the charts' enter transition, for the screenshot only
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "history_tab.png"), full_page=True)
        assert outside == [], f"the page made requests outside this machine: {outside}"
    finally:
        if page is not None:
            page.close()
        server.terminate()
        try:
            server.wait(30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(10)
