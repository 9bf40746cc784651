"""Shoot-day drills: the shutter drill, lens recall and blink on cue (pure state machines), their
flows on a clip or the live camera, the contact sheet and the sounds. No Streamlit here."""

from posecoach.drills.blink import BlinkOnCue, BlinkPhase, BlinkSettings
from posecoach.drills.recall import LensRecall, RecallPhase, RecallSettings
from posecoach.drills.schedule import DrillError, Every, ShotSchedule, parse_every
from posecoach.drills.shutter import KeeperRules, Miss, Shot, ShutterDrill, ShutterSummary, judge

__all__ = [
    "BlinkOnCue", "BlinkPhase", "BlinkSettings", "DrillError", "Every", "KeeperRules", "LensRecall", "Miss",
    "RecallPhase", "RecallSettings", "Shot", "ShotSchedule", "ShutterDrill", "ShutterSummary", "judge", "parse_every",
]  # fmt: skip
