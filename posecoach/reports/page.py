"""The pieces every posecoach HTML page shares: a self-contained document, escaping, numbers
in words a person (or a photographer) reads.

A page is one file: styles inline, pictures as ``data:`` URIs, charts as inline SVG, and a
Content-Security-Policy that forbids the browser any request at all, so a page opens offline
and nothing in it can reach out even if a string slipped through.
"""

from __future__ import annotations

import base64
import html
from datetime import datetime

#: No request of any kind: pictures only from data: URIs, styles only inline.
CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"

BASE_CSS = """
:root { --ink: #1d2329; --muted: #5d6873; --line: #d9dee3; --good: #2e9d4a; --accent: #2f6fb0; --warn: #b7791f; }
* { box-sizing: border-box; }
body { margin: 0; color: var(--ink); background: #fff;
       font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
main { max-width: 960px; margin: 0 auto; padding: 28px 24px 40px; }
h1 { font-size: 1.7rem; margin: 0 0 4px; }
h2 { font-size: 1.2rem; margin: 30px 0 10px; padding-bottom: 4px; border-bottom: 1px solid var(--line); }
h3 { font-size: 1rem; margin: 16px 0 6px; }
.meta, .note, figcaption { color: var(--muted); }
.meta { margin: 0; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: 6px 8px; border-bottom: 1px solid var(--line); vertical-align: top; }
th { font-weight: 600; font-size: 0.85rem; color: var(--muted); }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
.held { color: var(--good); font-weight: 600; }
footer { margin-top: 36px; font-size: 0.8rem; color: var(--muted); }
"""


def esc(value: object) -> str:
    """Any value as HTML text (quotes too: safe inside attributes)."""
    return html.escape(str(value), quote=True)


def data_uri(jpeg: bytes) -> str:
    return "data:image/jpeg;base64," + base64.b64encode(jpeg).decode("ascii")


def document(title: str, body: str, css: str = "") -> str:
    """A complete, self-contained HTML page (``title`` is escaped here; ``body`` is HTML)."""
    from posecoach import __version__

    return (
        "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        f"<meta http-equiv=\"Content-Security-Policy\" content=\"{CSP}\">\n"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
        f"<meta name=\"generator\" content=\"posecoach {esc(__version__)}\">\n"
        f"<title>{esc(title)}</title>\n<style>{BASE_CSS}{css}</style>\n</head>\n<body>\n<main>\n{body}\n</main>\n</body>\n</html>\n"
    )


# -- numbers in words ------------------------------------------------------------------------
def when(iso: str, *, short: bool = False) -> str:
    """``2026-12-01T19:04:00+01:00`` -> ``1 Dec 2026, 19:04`` (``short``: ``1 Dec 19:04``); the
    stored text if unreadable."""
    try:
        t = datetime.fromisoformat(iso)
    except ValueError:
        return iso
    return f"{t.day} {t:%b %H:%M}" if short else f"{t.day} {t:%b %Y, %H:%M}"


def seconds(s: float | None) -> str:
    """``2.13`` -> ``2.1 s``; ``95`` -> ``1 min 35 s``; None -> ``–``."""
    if s is None:
        return "\u2013"
    if s < 60:
        return f"{s:.1f} s"
    m, rest = divmod(round(s), 60)
    return f"{m} min {rest:02d} s" if m < 60 else f"{m // 60} h {m % 60:02d} min"


def score(s: float | None) -> str:
    return "\u2013" if s is None else f"{s:.0f}"


def turn(yaw: float) -> str:
    """A yaw (degrees, > 0 toward the subject's own left) as a photographer says it."""
    if abs(yaw) < 1.5:
        return "straight to the lens"
    return f"{abs(yaw):.0f}\u00b0 to their {'left' if yaw > 0 else 'right'}"


def chin(pitch: float) -> str:
    """A pitch (degrees, > 0 chin up) as a photographer says it."""
    if abs(pitch) < 1.5:
        return "chin level"
    return f"chin {abs(pitch):.0f}\u00b0 {'up' if pitch > 0 else 'down'}"


def _band(low: float, high: float, plus: str, minus: str, zero: str) -> str:
    lo, hi = sorted((low, high))
    if lo >= 1.5:
        return f"{lo:.0f}\u2013{hi:.0f}\u00b0 {plus}" if round(hi) != round(lo) else f"{lo:.0f}\u00b0 {plus}"
    if hi <= -1.5:
        return f"{-hi:.0f}\u2013{-lo:.0f}\u00b0 {minus}" if round(hi) != round(lo) else f"{-lo:.0f}\u00b0 {minus}"
    return f"{zero} ({lo:+.0f}\u00b0 to {hi:+.0f}\u00b0)"


def turn_band(low: float, high: float) -> str:
    """A range of yaw in words: ``12-16° to their left``."""
    return _band(low, high, "to their left", "to their right", "straight to the lens")


def chin_band(low: float, high: float) -> str:
    """A range of pitch in words: ``chin 2-5° down`` (words first, as a photographer says it)."""
    text = _band(low, high, "up", "down", "chin level")
    return text if text.startswith("chin") else "chin " + text
