"""HTML pages made from a kept (or just coached) session: the session report and the
photographer's hand-off card. Pure: a :class:`~posecoach.records.SessionRecord` in, one
self-contained HTML document out (pictures embedded, no external assets, opens offline).

The text summary printed by ``posecoach analyze`` lives in :mod:`posecoach.report`.
"""

from posecoach.reports.card import render_card
from posecoach.reports.session_report import render_report

__all__ = ["render_card", "render_report"]
