"""The Streamlit page keeps faces on this machine: no connection leaves it, and nothing is
written to disk during a session unless the person asks (a download, or finishing a
calibration, which writes exactly one small profile of numbers).

The page runs in Streamlit's AppTest (no server, no browser) with the working directory,
HOME, the temporary folder and the profile folder all in fresh temporary directories. The
browser side (what the page itself loads) is checked in ``test_browser.py``.
"""

from __future__ import annotations

import json
import socket
import tempfile
import tomllib
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import is_loopback

ROOT = Path(__file__).resolve().parent.parent
APP = str(ROOT / "streamlit_app.py")
MEDIA = ROOT.parent / "shared" / "media"
CLIP = MEDIA / "single_face.mp4"
PHOTO = MEDIA / "single_face.jpg"
needs_media = pytest.mark.skipif(not CLIP.is_file(), reason=f"real face media not found at {MEDIA} (see ../shared/media)")

AppTest = pytest.importorskip("streamlit.testing.v1").AppTest


# -- guards: `no_network` lives in conftest.py ------------------------------------------
def test_the_guard_catches_an_outside_connection(no_network: list[object]) -> None:
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        with pytest.raises(AssertionError, match="network connection attempted"):
            s.connect(("192.0.2.1", 80))  # TEST-NET-1: never actually reached
        with pytest.raises(AssertionError, match="network connection attempted"):
            socket.getaddrinfo("example.org", 443)
    finally:
        s.close()
    assert len(no_network) == 2


@dataclass
class Sandbox:
    work: Path
    home: Path
    tmp: Path
    profiles: Path

    def written(self) -> dict[str, set[str]]:
        """Files now under each folder (the profile folder need not exist)."""
        out = {}
        for name in ("work", "home", "tmp", "profiles"):
            folder: Path = getattr(self, name)
            files = folder.rglob("*") if folder.exists() else ()
            out[name] = {p.relative_to(folder).as_posix() for p in files if p.is_file()}
        return out


@pytest.fixture
def sandbox(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Sandbox:
    """cwd, HOME, the temporary folder and the profile folder in fresh empty directories."""
    box = Sandbox(tmp_path / "work", tmp_path / "home", tmp_path / "tmp", tmp_path / "profiles")
    for folder in (box.work, box.home, box.tmp):
        folder.mkdir()
    monkeypatch.chdir(box.work)
    monkeypatch.setenv("HOME", str(box.home))
    monkeypatch.setenv("TMPDIR", str(box.tmp))
    monkeypatch.setattr(tempfile, "tempdir", str(box.tmp))
    monkeypatch.setenv("POSECOACH_CALIBRATION_DIR", str(box.profiles))
    return box


def _outside(attempts: list[object]) -> list[object]:
    return [a for a in attempts if not is_loopback(a)]


def _run(at: AppTest) -> AppTest:
    at.run()
    assert not at.exception, at.exception
    return at


# -- the tests ------------------------------------------------------------------------------
def test_config_keeps_the_server_on_this_machine_and_sends_no_usage_stats() -> None:
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    assert config["server"]["address"] == "127.0.0.1", "only this machine may reach the app by default"
    assert config["browser"]["gatherUsageStats"] is False, "no usage statistics leave the browser"
    assert config["server"].get("headless") is True, "the server never opens a browser by itself"


@needs_media
def test_practising_opens_no_connection_and_writes_nothing(no_network: list[object], sandbox: Sandbox) -> None:
    """The live page (no camera here), a clip coached and re-coached, a snapshot from the
    camera input and from an upload, the calibration step opened but not run."""
    repo_profiles = sorted((ROOT / "calibration").iterdir())
    at = _run(AppTest.from_file(APP, default_timeout=120))
    assert [m.label for m in at.metric] == ["Score", "Holds"]
    at.radio(key="pc-source").set_value("Practise on a video")
    _run(at)
    at.file_uploader(key="pc-clip").upload("single_face.mp4", CLIP.read_bytes(), "video/mp4")
    _run(at)
    assert next(m for m in at.metric if m.label == "Score").value.isdigit(), "the clip was coached"
    at.slider(key="pc-strictness").set_value(1.5)
    _run(at)
    at.radio(key="pc-source").set_value("Snapshot")
    _run(at)
    at.camera_input(key="pc-photo").upload("shot.jpg", PHOTO.read_bytes())
    _run(at)
    assert next(m for m in at.metric if m.label == "Score").value.isdigit(), "the photo was coached"
    at.file_uploader(key="pc-photo-upload").upload("photo.jpg", PHOTO.read_bytes(), "image/jpeg")
    _run(at)
    at.button(key="pc-calibrate").click()
    _run(at)
    at.radio(key="pc-source").set_value("Live camera")
    _run(at)
    at.text_input(key="pc-cal-name").set_value("ana")
    _run(at)

    assert _outside(no_network) == [], no_network
    written = sandbox.written()
    assert written["work"] == set() and written["tmp"] == set() and written["profiles"] == set(), written
    assert written["home"] == set(), "nothing in HOME, not even matplotlib's font cache"
    assert sorted((ROOT / "calibration").iterdir()) == repo_profiles


@needs_media
def test_calibrating_writes_only_the_profile_the_person_asked_for(no_network: list[object], sandbox: Sandbox) -> None:
    at = _run(AppTest.from_file(APP, default_timeout=120))
    at.radio(key="pc-source").set_value("Practise on a video")
    _run(at)
    at.file_uploader(key="pc-clip").upload("single_face.mp4", CLIP.read_bytes(), "video/mp4")
    _run(at)
    at.text_input(key="pc-clipcal-name").set_value("ana")
    at.slider(key="pc-clipcal-neutral").set_value((0.0, 0.5))
    at.slider(key="pc-clipcal-smile").set_value((1.2, 2.2))
    _run(at)
    at.button(key="pc-clipcal-go").click()
    _run(at)
    assert not at.error, [e.value for e in at.error]

    assert _outside(no_network) == [], no_network
    written = sandbox.written()
    assert written["profiles"] == {"ana.json"}, written
    assert written["work"] == set() and written["tmp"] == set(), written
    assert written["home"] == set(), "nothing in HOME, not even matplotlib's font cache"
    # Numbers only (and the name and creation time): no picture, no landmarks.
    path = sandbox.profiles / "ana.json"
    data = json.loads(path.read_text())
    assert path.stat().st_size < 2048
    assert {k for k, v in data.items() if not isinstance(v, (int, float))} == {"name", "created"}


def test_the_pages_model_load_writes_nothing_to_home_in_a_fresh_process(tmp_path: Path) -> None:
    """In a fresh process (matplotlib not yet imported, as when the server starts), loading the
    page's landmarker leaves HOME and the temporary folder empty: matplotlib's font cache went
    to ~/.cache/matplotlib."""
    import os
    import subprocess
    import sys

    home, tmp = tmp_path / "home", tmp_path / "tmp"
    home.mkdir()
    tmp.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("MPLCONFIGDIR", "XDG_CACHE_HOME", "XDG_CONFIG_HOME")}
    env.update(HOME=str(home), TMPDIR=str(tmp))
    code = "from posecoach.runs import PhotoCoach; PhotoCoach().close(); import matplotlib; print('ok')"
    proc = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0 and proc.stdout == "ok\n", proc.stderr
    assert list(home.rglob("*")) == [] and list(tmp.rglob("*")) == []
