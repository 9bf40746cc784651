"""Which network interfaces the live camera's WebRTC media sockets listen on.

The page is served on 127.0.0.1 only, and so, by default, are the camera's media sockets.
aiortc leaves the choice to aioice, which opens a UDP socket on *every* address of every
interface (the LAN's included) for every connection, and offers them all as ICE host
candidates; neither aiortc's ``RTCConfiguration`` nor streamlit-webrtc's
``server_rtc_configuration`` can narrow that, and aioice never offers loopback (upstream:
aiortc/aioice issue #2, "Finer local candidate address selection", open since 2018).

So this module is the one place posecoach changes a library's behaviour: it wraps
``aioice.ice.get_host_addresses`` (the function ``Connection.gather_candidates`` asks for the
addresses to bind) so that, in the :attr:`IceScope.LOOPBACK` scope, the only host candidate is
127.0.0.1. A browser on this machine reaches it from its own addresses (ICE learns them as
peer-reflexive candidates), so nothing else is needed. The scope is process-wide, as the
server's address is; aioice's own function is called unchanged in :attr:`IceScope.ALL`.

The scope widens to every interface only with the documented remote settings
(:func:`ice_scope`): the page served beyond this machine (``--server.address 0.0.0.0`` or a
LAN address), or ICE servers set for a remote browser (``POSECOACH_ICE_SERVERS``, e.g. behind
a reverse proxy on this machine).
"""

from __future__ import annotations

import enum
import ipaddress
import logging
import threading
from collections.abc import Callable

log = logging.getLogger(__name__)

#: The host candidate of the loopback scope.
LOOPBACK_HOST = "127.0.0.1"


class IceScope(str, enum.Enum):
    """Where the media sockets listen: ``loopback`` (127.0.0.1 only) or ``all`` interfaces."""

    LOOPBACK = "loopback"
    ALL = "all"


def ice_scope(server_address: str | None, ice_servers: list | None) -> IceScope:
    """The scope for a page served on ``server_address`` (Streamlit's ``server.address``;
    empty or None means every interface, Streamlit's default) with ``ice_servers`` (the parsed
    ``POSECOACH_ICE_SERVERS``): loopback unless either says the browser is elsewhere."""
    if ice_servers:
        return IceScope.ALL
    host = (server_address or "").strip().strip("[]")
    if host == "localhost":
        return IceScope.LOOPBACK
    try:
        return IceScope.LOOPBACK if ipaddress.ip_address(host).is_loopback else IceScope.ALL
    except ValueError:  # empty (all interfaces) or a host name: not provably this machine only
        return IceScope.ALL


_lock = threading.Lock()
_scope = IceScope.LOOPBACK
_aioice_own: Callable[[bool, bool], list[str]] | None = None


def _host_addresses(use_ipv4: bool, use_ipv6: bool) -> list[str]:
    """Stands in for ``aioice.ice.get_host_addresses`` (same signature)."""
    if _scope is IceScope.LOOPBACK:
        return [LOOPBACK_HOST] if use_ipv4 else []
    assert _aioice_own is not None
    return _aioice_own(use_ipv4, use_ipv6)


def apply_ice_scope(scope: IceScope, ice_module: object | None = None) -> str:
    """Make every WebRTC connection opened from now on gather its host candidates in ``scope``.

    Idempotent (the page calls it on every run). ``ice_module``: ``aioice.ice`` (the default;
    a stand-in in tests). Returns "" or, when the installed aioice does not have the function
    this relies on, a warning for the page (the sockets then listen where aioice puts them).
    """
    global _scope, _aioice_own
    if ice_module is None:
        import aioice.ice as ice_module  # noqa: PLW0127 - imported late: the page may never stream
    with _lock:
        current = getattr(ice_module, "get_host_addresses", None)
        if current is not _host_addresses:
            if not callable(current):
                return (
                    "The camera connection may listen on every network interface: this version of "
                    "aioice has no get_host_addresses (posecoach was tested with aioice 0.13)."
                )
            _aioice_own = current
            ice_module.get_host_addresses = _host_addresses  # type: ignore[attr-defined]
        if scope is not _scope:
            log.info("WebRTC media sockets: %s", "127.0.0.1 only" if scope is IceScope.LOOPBACK else "every interface")
        _scope = scope
    return ""

