"""Target looks: what a pose should measure, loaded from TOML and validated strictly.

A target file (``assets/targets/*.toml``) looks like this::

    name = "corporate_headshot"          # slug: lowercase letters, digits, "_" or "-"
    title = "Corporate headshot"
    description = "A soft, closed-mouth smile ..."
    hold_s = 1.5                         # seconds to hold the look (> 0)
    threshold = 80                       # score 0..100 that counts toward a hold
    hold_cue = "Hold it there"           # optional: what the coach says once the look is hit

    [ranges.smile]                       # one table per metric (see TARGET_METRICS)
    low = 0.2                            # the metric scores 1.0 inside [low, high] ...
    high = 0.45
    tolerance = 0.15                     # ... and falls to 0.0 this far outside it
    weight = 1.5                         # optional, default 1.0, at most 100

    [cues.smile]                         # optional phrasing overrides for a metric in ranges
    up = "A touch more smile, lips closed"    # when the value must rise
    down = "Soften to a closed-mouth smile"   # when it must fall

    [light]                              # optional: the light the look wants
    max_ratio_stops = 1.0                # left/right lighting ratio beyond which it is "uneven"

Convention for the shipped looks: a weight >= 1.5 marks a metric the look is defined by
(and ``eye_open`` always has one: a blink is never a hold); each threshold is set so that
missing any one defining metric completely keeps the score below it.

Metric units and signs are those of :class:`~posecoach.results.Metrics` (angles in degrees in
the RAW, un-mirrored camera image; expression scores 0..1).

Loading is strict (a typo must not silently become a different target) and raises only
:class:`TargetError`, whose message names the file, the field and the reason, e.g.
``assets/targets/x.toml: ranges.smile.low: expected a number, got 'abc'``.
"""

from __future__ import annotations

import math
import os
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

from posecoach.files import FieldError, FileRefused, read_capped
from posecoach.results import TARGET_METRICS

#: Where the shipped targets live (a source checkout or an editable install).
DEFAULT_LIBRARY_DIR = Path(__file__).parent.parent / "assets" / "targets"

#: Range a metric's ``low``/``high`` must lie in: angles in degrees, the rest 0..1 fractions.
#: A bound outside it can never be met (or is a unit mistake such as smile = 30 for 30 %).
METRIC_DOMAIN: Mapping[str, tuple[float, float]] = {
    name: ((-90.0, 90.0) if name in ("yaw", "pitch", "roll") else (0.0, 1.0)) for name in TARGET_METRICS
}
#: A tolerance wider than its metric's whole domain changes nothing more: that is the bound.
MAX_TOLERANCE: Mapping[str, float] = {name: hi - lo for name, (lo, hi) in METRIC_DOMAIN.items()}

_SLUG = re.compile(r"^[a-z0-9]+(?:[_-][a-z0-9]+)*$")
_TOP_KEYS = ("name", "title", "description", "hold_s", "threshold", "hold_cue", "ranges", "cues", "light")
_LIGHT_KEYS = ("max_ratio_stops",)
#: The widest lighting ratio a look may allow, in stops (8:1 and beyond is near-black shadow).
_MAX_RATIO_STOPS = 4.0
#: The ratio a look without a ``[light]`` table allows: portrait light (<= 2 stops) is fine.
DEFAULT_MAX_RATIO_STOPS = 2.0
_RANGE_KEYS = ("low", "high", "tolerance", "weight")
_CUE_KEYS = ("up", "down")
_MAX_HOLD_S = 60.0
#: A metric's weight is relative to the others; beyond this it would only overflow the mean.
MAX_WEIGHT = 100.0
#: Target files are a few hundred bytes; anything this large is not one (e.g. /dev/zero).
MAX_TARGET_BYTES = 256 * 1024
_WHAT = "a target file (.toml)"


class TargetError(FieldError):
    """A target file or name that cannot be used: ``"<file>: <field>: <reason>"``."""


@dataclass(frozen=True)
class MetricRange:
    """Where one metric should be.

    Attributes:
        metric: a name from :data:`~posecoach.results.TARGET_METRICS`.
        low, high: the ideal interval, in the metric's unit (degrees or 0..1).
        tolerance: how far outside the interval the score falls from 1 to 0 (same unit).
        weight: importance in the target's weighted mean (0 to :data:`MAX_WEIGHT`).
    """

    metric: str
    low: float
    high: float
    tolerance: float
    weight: float = 1.0


@dataclass(frozen=True)
class CueOverride:
    """A target's own phrasing for one metric ("" = use the coach's default)."""

    metric: str
    up: str = ""
    down: str = ""


@dataclass(frozen=True)
class Target:
    """A target look.

    Attributes:
        name: slug used on the command line and as the library key.
        title: short human name.
        description: one or two sentences a client understands.
        ranges: the metric ranges that make the look.
        hold_s: seconds the score must stay at or above ``threshold`` to count as a hold.
        threshold: score 0..100 that counts as "in the look".
        cues: per-metric phrasing overrides.
        hold_cue: what the coach says while the look is held ("" = the default).
        max_ratio_stops: the widest left/right lighting ratio (stops) the look allows before
            the light is called "uneven" (``[light] max_ratio_stops``; flat corporate light
            is <= 1 stop, portrait light 1-2). Advice only: light never changes the score.
    """

    name: str
    title: str
    description: str
    ranges: tuple[MetricRange, ...]
    hold_s: float = 1.5
    threshold: float = 80.0
    cues: tuple[CueOverride, ...] = ()
    hold_cue: str = ""
    max_ratio_stops: float = DEFAULT_MAX_RATIO_STOPS

    def range(self, metric: str) -> MetricRange | None:
        """The range for ``metric``, or None if the target does not constrain it."""
        for r in self.ranges:
            if r.metric == metric:
                return r
        return None

    def cue_for(self, metric: str, direction: int) -> str:
        """The target's phrasing for moving ``metric`` in ``direction`` (+1 up, -1 down), or ""."""
        for c in self.cues:
            if c.metric == metric:
                return c.up if direction > 0 else c.down if direction < 0 else ""
        return ""


# -- validation helpers ----------------------------------------------------------------------
def _show(value: Any) -> str:
    """How an offending value is shown in a message: TOML-ish, short."""
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, bool):
        return "true" if value else "false"
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _number(path: str, field: str, value: Any) -> float:
    # bool is an int subclass in Python; TOML true/false is not a number.
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TargetError(path, field, f"expected a number, got {_show(value)}")
    if not math.isfinite(value):
        raise TargetError(path, field, f"expected a finite number, got {_show(value)}")
    return float(value)


def _string(path: str, field: str, value: Any, *, empty_ok: bool = True) -> str:
    if not isinstance(value, str):
        raise TargetError(path, field, f"expected a string, got {_show(value)}")
    if not empty_ok and not value.strip():
        raise TargetError(path, field, "expected a non-empty string, got ''")
    return value


def _table(path: str, field: str, value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise TargetError(path, field, f"expected a table, got {_show(value)}")
    return value


def _no_unknown_keys(path: str, prefix: str, table: dict[str, Any], allowed: tuple[str, ...]) -> None:
    for key in table:
        if key not in allowed:
            raise TargetError(path, prefix + key, f"unknown key (expected one of: {', '.join(allowed)})")


def _parse_range(path: str, metric: str, raw: Any) -> MetricRange:
    field = f"ranges.{metric}"
    if metric not in TARGET_METRICS:
        raise TargetError(path, field, f"unknown metric (expected one of: {', '.join(TARGET_METRICS)})")
    table = _table(path, field, raw)
    _no_unknown_keys(path, field + ".", table, _RANGE_KEYS)
    for key in ("low", "high", "tolerance"):
        if key not in table:
            raise TargetError(path, f"{field}.{key}", "missing (expected a number)")
    low = _number(path, f"{field}.low", table["low"])
    high = _number(path, f"{field}.high", table["high"])
    tolerance = _number(path, f"{field}.tolerance", table["tolerance"])
    weight = _number(path, f"{field}.weight", table.get("weight", 1.0))
    lo, hi = METRIC_DOMAIN[metric]
    for key, v in (("low", low), ("high", high)):
        if not lo <= v <= hi:
            raise TargetError(path, f"{field}.{key}", f"expected a number in [{lo:g}, {hi:g}], got {_show(table[key])}")
    if low > high:
        raise TargetError(path, f"{field}.low", f"expected at most high ({high:g}), got {_show(table['low'])}")
    if not 0 <= tolerance <= MAX_TOLERANCE[metric]:
        raise TargetError(path, f"{field}.tolerance",
                          f"expected a number in [0, {MAX_TOLERANCE[metric]:g}], got {_show(table['tolerance'])}")  # fmt: skip
    if not 0 <= weight <= MAX_WEIGHT:
        raise TargetError(path, f"{field}.weight", f"expected a number in [0, {MAX_WEIGHT:g}], got {_show(table['weight'])}")
    return MetricRange(metric, low, high, tolerance, weight)


def _parse_cue(path: str, metric: str, raw: Any, constrained: set[str]) -> CueOverride:
    field = f"cues.{metric}"
    if metric not in constrained:
        raise TargetError(path, field, "expected a metric that has a range in this target")
    table = _table(path, field, raw)
    _no_unknown_keys(path, field + ".", table, _CUE_KEYS)
    up = _string(path, f"{field}.up", table.get("up", ""))
    down = _string(path, f"{field}.down", table.get("down", ""))
    return CueOverride(metric, up.strip(), down.strip())


def target_from_dict(data: Mapping[str, Any], path: str | Path = "<target>") -> Target:
    """Validate a parsed TOML document and build the :class:`Target` (raises only TargetError)."""
    p = str(path)
    doc = _table(p, "", data)
    _no_unknown_keys(p, "", doc, _TOP_KEYS)
    if "name" not in doc:
        raise TargetError(p, "name", "missing (expected a slug such as 'corporate_headshot')")
    name = _string(p, "name", doc["name"])
    if not _SLUG.match(name):
        raise TargetError(p, "name", f"expected a slug of lowercase letters, digits, '_' or '-', got {_show(name)}")
    title = _string(p, "title", doc.get("title", name.replace("_", " ").replace("-", " ").capitalize()), empty_ok=False)
    description = _string(p, "description", doc.get("description", ""))
    hold_s = _number(p, "hold_s", doc.get("hold_s", 1.5))
    if not 0 < hold_s <= _MAX_HOLD_S:
        raise TargetError(p, "hold_s", f"expected seconds in (0, {_MAX_HOLD_S:g}], got {_show(doc['hold_s'])}")
    threshold = _number(p, "threshold", doc.get("threshold", 80.0))
    if not 0 < threshold <= 100:
        raise TargetError(p, "threshold", f"expected a score in (0, 100], got {_show(doc['threshold'])}")
    hold_cue = _string(p, "hold_cue", doc.get("hold_cue", "")).strip()
    if "ranges" not in doc:
        raise TargetError(p, "ranges", "missing (expected a table of metric ranges)")
    ranges_raw = _table(p, "ranges", doc["ranges"])
    ranges = tuple(_parse_range(p, metric, raw) for metric, raw in ranges_raw.items())
    if not any(r.weight > 0 for r in ranges):
        raise TargetError(p, "ranges", "expected at least one metric with weight > 0")
    constrained = {r.metric for r in ranges}
    cues_raw = _table(p, "cues", doc.get("cues", {}))
    cues = tuple(_parse_cue(p, metric, raw, constrained) for metric, raw in cues_raw.items())
    light = _table(p, "light", doc.get("light", {}))
    _no_unknown_keys(p, "light.", light, _LIGHT_KEYS)
    max_ratio = _number(p, "light.max_ratio_stops", light.get("max_ratio_stops", DEFAULT_MAX_RATIO_STOPS))
    if not 0 < max_ratio <= _MAX_RATIO_STOPS:
        raise TargetError(p, "light.max_ratio_stops",
                          f"expected stops in (0, {_MAX_RATIO_STOPS:g}], got {_show(light['max_ratio_stops'])}")  # fmt: skip
    return Target(name, title.strip(), description.strip(), ranges, hold_s, threshold, cues, hold_cue, max_ratio)


def load_target(path: str | Path) -> Target:
    """Load and validate one target file; raises only :class:`TargetError`."""
    p = str(path)
    if not isinstance(path, (str, os.PathLike)):
        raise TargetError(p, "", f"expected a file path, got {type(path).__name__}")
    try:
        raw = read_capped(path, MAX_TARGET_BYTES, _WHAT)  # regular files only: no FIFO, no /dev/zero
    except FileRefused as e:
        raise TargetError(p, "", e.reason) from None
    try:
        text = raw.decode("utf-8-sig")  # tolerate a BOM from Windows editors
    except UnicodeDecodeError as e:
        raise TargetError(p, "", f"expected UTF-8 text, got an undecodable byte at offset {e.start}") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise TargetError(p, "", f"not valid TOML ({e})") from None
    except (RecursionError, ValueError, MemoryError) as e:  # absurdly nested or huge input
        raise TargetError(p, "", f"not valid TOML ({type(e).__name__})") from None
    return target_from_dict(data, p)


def load_library(dir: str | Path | None = None) -> dict[str, Target]:  # noqa: A002 - the documented name
    """Load every ``*.toml`` in ``dir`` (default :data:`DEFAULT_LIBRARY_DIR`), keyed by name.

    Raises :class:`TargetError` for a missing folder, a folder without targets, any invalid
    file, or two files with the same ``name``.
    """
    folder = Path(DEFAULT_LIBRARY_DIR if dir is None else dir)
    try:
        files = sorted(f for f in folder.iterdir() if f.suffix == ".toml")
    except FileNotFoundError:
        raise TargetError(folder, "", "cannot read: no such folder") from None
    except NotADirectoryError:
        raise TargetError(folder, "", "cannot read: not a folder") from None
    except OSError as e:
        raise TargetError(folder, "", f"cannot read: {e.strerror or e}") from None
    if not files:
        raise TargetError(folder, "", "no target files (*.toml) found")
    library: dict[str, Target] = {}
    origin: dict[str, Path] = {}
    for f in files:
        target = load_target(f)
        if target.name in library:
            first = origin[target.name].name
            raise TargetError(f, "name", f"expected a unique name, got {target.name!r} (also in {first})")
        library[target.name] = target
        origin[target.name] = f
    return library


def find_target(name_or_path: str | Path, library: Mapping[str, Target] | None = None) -> Target:
    """A target by library name, or by path to a ``.toml`` file.

    Unknown names raise :class:`TargetError` listing the available names.
    """
    if isinstance(name_or_path, os.PathLike):
        return load_target(name_or_path)
    if not isinstance(name_or_path, str):
        raise TargetError("", "", f"expected a target name or path, got {type(name_or_path).__name__}")
    lib = load_library() if library is None else library
    if name_or_path in lib:
        return lib[name_or_path]
    looks_like_path = (
        name_or_path.lower().endswith(".toml")
        or "/" in name_or_path
        or "\\" in name_or_path
        or _is_file(name_or_path)
    )
    if looks_like_path:
        return load_target(name_or_path)
    available = ", ".join(sorted(lib)) or "none"
    raise TargetError("", "", f"unknown target {_show(name_or_path)}: expected a .toml file or one of: {available}")


def _is_file(path: str) -> bool:
    try:
        return Path(path).is_file()
    except (OSError, ValueError):  # name too long, NUL byte...
        return False
