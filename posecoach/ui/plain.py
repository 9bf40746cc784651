"""Text a person or a file supplied, shown on the page as plain text.

Streamlit renders Markdown in alerts, captions, labels, progress text and image captions: an
uploaded file named ``![x](http://host/leak.png).mp4``, or a target whose description or cue
holds Markdown, would be drawn as an image (the browser fetching the URL), a link or styled
text. :func:`md` escapes such text so that it renders exactly as written. Every string that
did not come from posecoach itself (file names, paths, target titles, descriptions and cues,
error messages that quote them) goes through it before it reaches a Markdown-rendering call.
"""

from __future__ import annotations

import re

#: Every ASCII punctuation character: CommonMark lets any of them be backslash-escaped, and an
#: escaped one is always literal text (no link, image, emphasis, HTML, directive, math or
#: autolink can start from it).
_PUNCTUATION = re.compile(r"""([!"#$%&'()*+,\-./:;<=>?@\[\\\]^_`{|}~])""")


def md(text: object) -> str:
    """``text`` as Markdown that renders as exactly this text, on one line.

    Line breaks, tabs and runs of spaces become one space (a message is one line, and a
    leading indent would make a code block); every ASCII punctuation character is
    backslash-escaped.
    """
    return _PUNCTUATION.sub(r"\\\1", " ".join(str(text).split()))


def unescape(markdown: str) -> str:
    """The text a string made by :func:`md` renders as (for tests and checks)."""
    return re.sub(r"\\([!-/:-@\[-`{-~])", r"\1", markdown)
