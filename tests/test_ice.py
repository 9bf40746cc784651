"""The live camera's WebRTC media sockets: 127.0.0.1 only unless a remote setting widens them
(the browser test checks the sockets of a real server while it streams)."""

from __future__ import annotations

import asyncio
import ipaddress

import pytest

from posecoach.ui.ice import IceScope, apply_ice_scope, ice_scope

@pytest.mark.parametrize(
    ("address", "servers", "scope"),
    [
        ("127.0.0.1", [], IceScope.LOOPBACK),  # .streamlit/config.toml, coach.sh
        ("localhost", None, IceScope.LOOPBACK),
        ("::1", [], IceScope.LOOPBACK),
        ("127.0.0.2", [], IceScope.LOOPBACK),
        ("0.0.0.0", [], IceScope.ALL),  # the README's tablet in a studio
        ("192.168.1.20", [], IceScope.ALL),
        ("", [], IceScope.ALL),  # Streamlit's default: every interface
        (None, [], IceScope.ALL),
        ("studio.local", [], IceScope.ALL),
        ("127.0.0.1", [{"urls": ["turn:turn.example.org:3478"]}], IceScope.ALL),  # behind a proxy
    ],
)
def test_the_scope_widens_only_with_a_remote_setting(address: str | None, servers: list | None,
                                                     scope: IceScope) -> None:  # fmt: skip
    assert ice_scope(address, servers) is scope

def _gathered() -> list[str]:
    """The host candidates a real aioice connection gathers now (its sockets closed after)."""
    from aioice import Connection

    async def gather() -> list[str]:
        conn = Connection(ice_controlling=False)
        try:
            await conn.gather_candidates()
            return [c.host for c in conn.local_candidates]
        finally:
            await conn.close()

    return asyncio.run(gather())

def test_aioice_gathers_loopback_only_by_default_and_every_interface_when_widened() -> None:
    pytest.importorskip("aioice")

    try:
        assert apply_ice_scope(IceScope.LOOPBACK) == ""
        assert apply_ice_scope(IceScope.LOOPBACK) == "", "idempotent: the page calls it on every run"
        assert _gathered() == ["127.0.0.1"]
        apply_ice_scope(IceScope.ALL)
        wide = _gathered()
        # aioice's own choice: every non-loopback address (none on a machine without a network).
        assert all(not ipaddress.ip_address(h.split("%")[0]).is_loopback for h in wide), wide
    finally:
        apply_ice_scope(IceScope.LOOPBACK)

def test_an_aioice_without_the_hook_is_reported() -> None:
    class Stand:
        pass

    warning = apply_ice_scope(IceScope.LOOPBACK, Stand())
    assert "may listen on every network interface" in warning
