"""The drills in a real headless browser: Chromium's fake camera plays single_face.mp4 into the
page; the shutter drill takes and judges shots with its sounds in the page, lens recall hides the
mirror, and nothing is requested from outside this machine.

Reuses the fixtures of :mod:`test_browser` (the server, the fake-camera browser). Screenshots go
to ``artifacts/browser_drill_*.png``.
"""

from __future__ import annotations

import re

import pytest
from test_browser import (  # noqa: F401 - fixtures
    ARTIFACTS,
    LivePage,
    browser,
    context,
    fake_camera_clip,
    playwright,
    profile_dir,
    server,
    sync_api,
    unexpected_tracebacks,
    wait_for,
    watch_outside_requests,
)

pytestmark = pytest.mark.browser


def test_drills_live_in_a_real_browser(server, context) -> None:  # noqa: ANN001, F811
    page = context.new_page()
    page.set_default_timeout(30_000)
    outside = watch_outside_requests(page)
    page.goto(server.url, wait_until="domcontentloaded", timeout=60_000)
    live = LivePage(page)
    wait_for(lambda: live.button("START").count() > 0, 90, "the camera component's START button")
    live.choose_target("Genuine laugh")
    page.get_by_text("Shoot-day drills", exact=True).click()
    wait_for(lambda: page.get_by_role("button", name="Start drill").count() > 0, 60, "the drills page")
    page.get_by_text("Speak the cues", exact=True).click()
    page.get_by_role("button", name="Start drill").click()
    wait_for(lambda: page.get_by_role("button", name="Stop drill").count() > 0, 60, "the drill to start")
    wait_for(lambda: live.button("START").count() > 0, 60, "the camera under the drill")
    live.start()

    # The shutter drill: shots every 2-4 s, each judged; the shutter sound is in the page.
    shot = re.compile(r"Shot (\d+): (.+)")
    wait_for(lambda: shot.search(live.text("pc-drill-now")), 90, "the first shot")
    sound = page.locator(".st-key-pc-drill-sound iframe").first
    # The sound is drawn after the shot's words: wait for the redraw to reach it.
    srcdoc = wait_for(lambda: 'what = "shutter"' in (d := sound.get_attribute("srcdoc") or "") and d, 10,
                      "the shutter sound in the page")  # fmt: skip
    assert "data:audio/wav;base64,UklGR" in srcdoc
    note = page.frame_locator(".st-key-pc-drill-sound iframe").first.locator("#pc-sound")

    def voice_note() -> str:
        try:
            text = note.inner_text(timeout=2000)  # the frame is redrawn with each click
        except sync_api.Error:
            return ""
        return text if text.startswith(("Spoken by ", "No voice ")) else ""

    said = wait_for(voice_note, 20, "the voice's note")
    # Only a voice on this machine may speak; Chromium here has none, and the page says so.
    assert said.startswith("Spoken by ") or said == "No voice on this machine: a chime and the words instead.", said
    wait_for(lambda: (m := shot.search(live.text("pc-drill-now"))) and int(m[1]) >= 3, 60, "three shots")
    # The tally is drawn after the shot's words, and a read may land mid-redraw (""): wait for it.
    keepers = re.compile(r"Keepers\s*(\d+) of (\d+)")
    wait_for(lambda: (k := keepers.search(live.text("pc-drill-now"))) and int(k[2]) >= 3, 10, "the keepers of 3 shots")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "browser_drill_shutter.png"), full_page=True)
    page.get_by_role("button", name="Stop drill").click()
    wait_for(lambda: "Keepers:" in (t := live.text("pc-drill-summary")) and "Work on: " in t, 30,
             "the drill's summary with its habit to work on")  # fmt: skip
    wait_for(lambda: page.get_by_text("Contact sheet: green keepers, red with why not").count() > 0, 30,
             "the contact sheet")  # fmt: skip
    page.screenshot(path=str(ARTIFACTS / "browser_drill_summary.png"), full_page=True)

    # Lens recall: once the look is held, the mirror goes away.
    page.get_by_text("Lens recall", exact=True).click()
    wait_for(lambda: page.get_by_text("the mirror goes away", exact=False).count() > 0, 30, "the lens recall drill")
    wait_for(lambda: page.get_by_role("button", name="Start drill").count() > 0, 30, "its Start button")
    page.get_by_role("button", name="Start drill").click()
    wait_for(lambda: page.get_by_role("button", name="Stop drill").count() > 0, 60, "the recall to start")

    def recalling() -> bool:
        # A new drill draws the camera anew: START again, as its caption says. The camera seen
        # first may still be the shutter drill's (STOP) until the page redraws it, so START is
        # pressed whenever it shows, until the recall phase comes.
        if "Eyes on the lens" in live.text("pc-drill-now"):
            return True
        if live.button("START").count() and not live.button("STOP").count():
            try:
                live.button("START").click(timeout=5_000)
            except sync_api.Error:
                pass  # redrawn meanwhile: looked at again on the next poll
        return False

    wait_for(recalling, 120, "the recall phase", every_s=1.0)
    # The mirror is hidden for the recall's 4 s; a loaded machine may show it too late to
    # catch, so the next round's recall (after up to 15 s of mirror) counts as well.
    wait_for(lambda: live.video_state()["mean"] < 40, 30, "the mirror to be hidden (a dark screen)")
    page.screenshot(path=str(ARTIFACTS / "browser_drill_recall.png"), full_page=True)
    srcdoc = page.locator(".st-key-pc-drill-sound iframe").first.get_attribute("srcdoc") or ""
    assert 'what = "held"' in srcdoc or 'what = "cue"' in srcdoc
    live.stop()
    assert outside == [], f"requests left the machine: {outside}"
    assert not unexpected_tracebacks(server.output())
