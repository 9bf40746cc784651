"""Nothing leaves the machine, checked at the system-call level.

MediaPipe's native code (libcurl inside ``libmediapipe.so``) tries to upload usage logs to
``play.googleapis.com`` on every model load (google-ai-edge/mediapipe issue 6291). Python's
socket hooks (the ``no_network`` fixture) cannot see native traffic, so these tests run
posecoach under ``strace -f`` and fail on any DNS query, any resolver lookup (nscd, systemd's
resolver, reading ``/etc/resolv.conf`` or ``/etc/hosts``) and any connection that is not to
this machine. ``bash scripts/setup.sh --test`` installs strace.
"""

from __future__ import annotations

import ipaddress
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import cv2
import pytest
from skimage import data as skdata

from posecoach.native import DEAD_PROXY, LOOPBACK_HOSTS

pytestmark = pytest.mark.skipif(
    shutil.which("strace") is None,
    reason="strace not installed: `bash scripts/setup.sh --test` (or apt-get install strace) installs it",
)

MEDIA = Path(__file__).resolve().parents[1].parent / "shared" / "media"

_SEND = re.compile(r"\b(connect|sendto|sendmsg|sendmmsg)\(")
_INET = re.compile(r'sin_port=htons\((\d+)\), sin_addr=inet_addr\("([^"]+)"\)')
_INET6 = re.compile(r'sin6_port=htons\((\d+)\).*?inet_pton\(AF_INET6, "([^"]+)"')
_UNIX = re.compile(r'sun_path=@?"([^"]+)"')
_RESOLVER_SOCKETS = ("nscd", "resolve")  # /var/run/nscd/socket, /run/systemd/resolve/io.systemd.Resolve
_RESOLVER_FILES = ('"/etc/resolv.conf"', '"/etc/hosts"', '"/etc/gai.conf"')


def _loopback(host: str) -> bool:
    try:
        address = ipaddress.ip_address(host.split("%")[0])
    except ValueError:
        return False
    mapped = getattr(address, "ipv4_mapped", None)
    return (mapped or address).is_loopback


def offending(trace: str) -> list[str]:
    """The lines of an ``strace -f -e trace=network,openat`` log that look up a name or reach
    beyond this machine."""
    bad = []
    for line in trace.splitlines():
        if "openat(" in line:
            if any(name in line for name in _RESOLVER_FILES):
                bad.append(line)
            continue
        if not _SEND.search(line):
            continue
        unix = _UNIX.search(line)
        if unix:
            if any(word in unix.group(1) for word in _RESOLVER_SOCKETS):
                bad.append(line)
            continue
        for port, host in _INET.findall(line) + _INET6.findall(line):
            if int(port) == 53 or not _loopback(host):
                bad.append(line)
                break
    return bad


def test_the_checker_sees_a_dns_query_and_an_outside_connection() -> None:
    """Lines as strace printed them on main before the fix, and harmless ones."""
    dns = ('14177 connect(8, {sa_family=AF_INET, sin_port=htons(53), sin_addr=inet_addr("10.255.255.53")}, 16) = 0')
    out = ('1 connect(6, {sa_family=AF_INET6, sin6_port=htons(443), sin6_flowinfo=htonl(0), '
           'inet_pton(AF_INET6, "2a00:1450:4001::200e", &sin6_addr), sin6_scope_id=0}, 28) = -1 EINPROGRESS')
    local_dns = '2 sendto(5, "x", 1, 0, {sa_family=AF_INET, sin_port=htons(53), sin_addr=inet_addr("127.0.0.53")}, 16) = 1'
    nscd = '23217 connect(8, {sa_family=AF_UNIX, sun_path="/var/run/nscd/socket"}, 110) = -1 ENOENT'
    resolv = '23217 openat(AT_FDCWD, "/etc/resolv.conf", O_RDONLY|O_CLOEXEC) = 8'
    fine = [
        '22928 connect(8, {sa_family=AF_INET, sin_port=htons(0), sin_addr=inet_addr("127.0.0.1")}, 16) = -1 EINPROGRESS',
        '3 connect(4, {sa_family=AF_UNIX, sun_path="/tmp/x.sock"}, 110) = 0',
        '4 openat(AT_FDCWD, "/etc/ld.so.cache", O_RDONLY|O_CLOEXEC) = 3',
    ]
    assert offending("\n".join([dns, out, local_dns, nscd, resolv, *fine])) == [dns, out, local_dns, nscd, resolv]


def traced(args: list[str], tmp_path: Path, env: dict[str, str] | None = None) -> tuple[subprocess.CompletedProcess, list[str]]:
    """Run ``args`` under strace; return the process and the offending trace lines."""
    log = tmp_path / "strace.log"
    proc = subprocess.run(
        ["strace", "-f", "-qq", "-e", "trace=network,openat", "-o", str(log), *args],
        capture_output=True, text=True, timeout=300, env={**os.environ, **(env or {})},
    )  # fmt: skip
    trace = log.read_text(errors="replace") if log.exists() else ""
    assert trace, f"strace wrote no log (ptrace not permitted here?): {proc.stderr[-500:]}"
    return proc, offending(trace)


@pytest.fixture(scope="module")
def face_clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The shared webcam clip, or (without ../shared/media) a clip of the astronaut's face."""
    shared = MEDIA / "single_face.mp4"
    if shared.is_file():
        return shared
    path = tmp_path_factory.mktemp("clip") / "astronaut.avi"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 10.0, (512, 512))
    for _ in range(20):
        writer.write(cv2.cvtColor(skdata.astronaut(), cv2.COLOR_RGB2BGR))
    writer.release()
    return path


def test_analyze_looks_up_no_name_and_connects_nowhere(face_clip: Path, tmp_path: Path) -> None:
    proc, bad = traced([sys.executable, "-m", "posecoach", "analyze", str(face_clip)], tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "with a face: 0 " not in proc.stdout and "with a face: " in proc.stdout  # the model ran
    assert bad == [], "network activity:\n" + "\n".join(bad)


# What the app does per browser session (a VIDEO tracker for the camera) and for a snapshot
# (an IMAGE tracker), kept open a few seconds: MediaPipe's uploader runs on its own thread.
_APP_LOAD = """
import time
import cv2
from skimage import data
from posecoach.detector import FaceTracker, TrackerMode

image = cv2.cvtColor(data.astronaut(), cv2.COLOR_RGB2BGR)
with FaceTracker(mode=TrackerMode.VIDEO) as live, FaceTracker(mode=TrackerMode.IMAGE) as photo:
    faces = sum(live.process(image, i * 33.0).has_face for i in range(30)) + photo.process(image).has_face
    time.sleep(3)
print("faces", faces)
"""


@pytest.mark.parametrize(
    "env",
    [{}, {"https_proxy": "http://192.0.2.1:3128", "HTTPS_PROXY": "http://192.0.2.1:3128", "no_proxy": "*"}],
    ids=["no-proxy-set", "user-proxy-and-no_proxy-star"],
)
def test_the_apps_model_load_looks_up_no_name_and_connects_nowhere(tmp_path: Path, env: dict[str, str]) -> None:
    """A proxy the user set (TEST-NET-1, never reached) does not carry MediaPipe's uploads either."""
    proc, bad = traced([sys.executable, "-c", _APP_LOAD], tmp_path, env)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["faces", "31"]
    assert bad == [], "network activity:\n" + "\n".join(bad)


def test_a_model_load_points_the_proxy_variables_at_a_dead_loopback_port() -> None:
    code = "from posecoach.detector import FaceTracker\nFaceTracker().close()\nimport os\nprint(os.environ['https_proxy'], os.environ['no_proxy'])"
    env = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")}
    inside = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert inside.stdout.split() == [DEAD_PROXY, LOOPBACK_HOSTS]
