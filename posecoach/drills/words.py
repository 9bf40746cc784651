"""What the drills say aloud or on screen, in plain words, and kind mode's words.

Kind mode (for a photographer warming up someone who tenses when judged) hides numbers and red
marks and speaks only encouragement; the numbers are still recorded for the photographer.
"""

from __future__ import annotations

#: Said when the frame would be a keeper / when it would not (kind mode: never a reason).
KIND_GOOD = "nice, hold that"
KIND_AGAIN = "lovely, find it again whenever you're ready"
#: Said once a drill ends, in kind mode.
KIND_DONE = "beautiful work: that's a wrap"


def kind_word(ready: bool) -> str:
    """Kind mode's one line for this moment."""
    return KIND_GOOD if ready else KIND_AGAIN


def shot_word(keeper: bool, why: str, *, kind: bool) -> str:
    """The words after a click: the reason a shot was lost, or only encouragement when kind."""
    if kind:
        return kind_word(keeper)
    return "keeper" if keeper else why
