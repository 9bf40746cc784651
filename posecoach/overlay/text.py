"""Text on the picture: OpenCV's Hershey fonts, ASCII folding and word wrapping."""

from __future__ import annotations

from collections.abc import Callable

import cv2

#: The big font (cues, prompts), the small one (labels, notes), and anti-aliased lines.
FONT = cv2.FONT_HERSHEY_DUPLEX
SMALL_FONT = cv2.FONT_HERSHEY_SIMPLEX
AA = cv2.LINE_AA
#: Hershey fonts are ASCII only: typographic characters a cue or prompt may contain, spelled in ASCII.
_ASCII = str.maketrans(
    {"\u2019": "'", "\u2018": "'", "\u201c": '"', "\u201d": '"', "\u2014": "-", "\u2013": "-",
     "\u2026": "...", "\u00b0": " deg", "\u2192": "->", "\u2190": "<-", "\u2191": "^", "\u2193": "v",
     "\u00a0": " "}
)  # fmt: skip


def ascii_text(text: str) -> str:
    """``text`` as Hershey fonts can draw it: typographic characters spelled in ASCII, anything
    else as "?"."""
    return text.translate(_ASCII).encode("ascii", "replace").decode("ascii")


def wrap_words(text: str, fits: Callable[[str], bool]) -> list[str]:
    """Greedy word wrap into lines for which ``fits(line)`` holds (a long word gets its own line)."""
    lines: list[str] = []
    current = ""
    for word in text.split():
        candidate = f"{current} {word}".strip()
        if current and not fits(candidate):
            lines.append(current)
            current = word
        else:
            current = candidate
    if current:
        lines.append(current)
    return lines or [text]


def fit_lines(text: str, font: int, scale: float, thickness: int, max_w: int, *, max_lines: int) -> list[str]:
    """``text`` word-wrapped to ``max_w`` pixels, at most ``max_lines`` lines (the last one
    ends in "..." when the text does not fit)."""
    if not text:
        return []

    def width(s: str) -> int:
        return cv2.getTextSize(s, font, scale, thickness)[0][0]

    lines = wrap_words(text, lambda s: width(s) <= max_w)
    if len(lines) > max_lines:
        lines = lines[:max_lines]
        lines[-1] += " ..."
    out = []
    for line in lines:
        while len(line) > 4 and width(line) > max_w:
            line = line[:-5].rstrip() + " ..."
        out.append(line)
    return out
