"""Times a person types when logging: parsed to unix seconds, never in the future.

Accepted (see :data:`TIME_FORMATS`): ``"09:30"`` (today, or yesterday if that is
still ahead), ``"2026-11-24 18:00"`` (local time), ISO 8601 with or without a zone,
unix seconds (a number or a numeric string), and relative ``"-2h"``, ``"-30min"``,
``"-3d"`` (also ``"now"``). Local time is the machine's zone.

The end of a span (``--until``) has one meaning of its own, :func:`parse_end`: a
clock time ``"18:00"`` is the first 18:00 after the span's start, so
``--at 09:00 --until 18:00`` is the latest 09:00 that has passed and the 18:00 after
it, at any hour of the day.

A command's option (``--at``, ``--since`` ...) is read by :func:`option_time`, whose
error names the option and every accepted form; ``--since`` also takes a span back
from now (``14d``, ``12h``, ``2w``, ``90min``), :func:`since_unix_s`.
"""

from __future__ import annotations

import datetime as _dt
import re
import time

from .. import TwitchwatchError

FUTURE_TOLERANCE_S = 300.0
TIME_FORMATS = (
    "HH:MM (today, or yesterday if that is still ahead)",
    "YYYY-MM-DD HH:MM (local time)",
    "ISO 8601, e.g. 2026-11-24T18:00:00+01:00",
    "unix seconds, e.g. 1795000000",
    "relative: -2h, -30min, -90s, -3d, now",
)
_RELATIVE = re.compile(r"^-\s*(\d+(?:\.\d+)?)\s*(s|sec|secs|m|min|mins|h|hr|hrs|hours?|d|days?|w|weeks?)$")
_UNIT_S = {"s": 1, "sec": 1, "secs": 1, "m": 60, "min": 60, "mins": 60, "h": 3600, "hr": 3600, "hrs": 3600,
           "hour": 3600, "hours": 3600, "d": 86400, "day": 86400, "days": 86400, "w": 604800,
           "week": 604800, "weeks": 604800}
#: ``--since``'s span back from now: a number and min, h, d or w (no minus)
_SPAN = re.compile(r"^(\d+(?:\.\d+)?)\s*(min|mins|h|d|w)$")
_CLOCK = re.compile(r"^(\d{1,2}):(\d{2})(?::(\d{2}))?$")
_EARLIEST_S = 946684800.0  # 2000-01-01: older entries are typos


class TimeParseError(ValueError):
    """What was wrong with a time; the caller adds which field and what is accepted."""


def parse_time(value: str | float | int, now_unix_s: float | None = None, *, ahead_ok_s: float = 0.0) -> float:
    """Unix seconds for ``value``; raises TimeParseError on a bad or future time (more
    than ``ahead_ok_s`` + 5 min ahead)."""
    now = time.time() if now_unix_s is None else float(now_unix_s)
    if isinstance(value, bool):
        raise TimeParseError(f"{value!r} is not a time")
    if isinstance(value, (int, float)):
        result = float(value)
    elif isinstance(value, str):
        result = _parse_text(value.strip(), now)
    else:
        raise TimeParseError(f"{value!r} is not a time")
    if result != result or result in (float("inf"), float("-inf")):
        raise TimeParseError(f"{value!r} is not a time")
    if result > now + FUTURE_TOLERANCE_S + max(0.0, ahead_ok_s):
        ahead_h = (result - now) / 3600
        raise TimeParseError(f"{value!r} is in the future ({ahead_h:.1f} h from now)")
    if result < _EARLIEST_S:
        raise TimeParseError(f"{value!r} is before the year 2000")
    return result


def option_time(option: str, text: str, now_unix_s: float | None = None) -> float:
    """Unix seconds for the value of a command's time option (``--at``, ``--since``);
    raises :class:`~twitchwatch.TwitchwatchError` naming the option and what is accepted."""
    try:
        return parse_time(text, now_unix_s=now_unix_s)
    except TimeParseError as exc:
        extra = "; or a duration back from now: 14d, 12h, 2w, 90min" if option == "--since" else ""
        raise TwitchwatchError(f"{option}: {exc}; accepted: {'; '.join(TIME_FORMATS)}{extra}") from None


def since_unix_s(text: str, now_unix_s: float) -> float:
    """``--since``: a duration back from ``now_unix_s`` (14d, 12h, 2w, 90min) or a time
    (:func:`option_time`)."""
    match = _SPAN.match(text.strip().lower())
    if match:
        return now_unix_s - float(match.group(1)) * _UNIT_S[match.group(2)]
    return option_time("--since", text, now_unix_s)


def parse_end(value: str | float | int, start_unix_s: float, now_unix_s: float | None = None,
              *, ahead_ok_s: float = 0.0) -> float:
    """Unix seconds for the end of a span that began at ``start_unix_s``.

    A clock time (``"18:00"``) is the first such time at or after the start (the same
    day, else the next); every other form is read as :func:`parse_time` reads it. The
    end may lie up to ``ahead_ok_s`` beyond now (a span still going on, such as a
    stressful day until 18:00); further ahead is a TimeParseError.
    """
    now = time.time() if now_unix_s is None else float(now_unix_s)
    text = value.strip() if isinstance(value, str) else None
    match = _CLOCK.match(text) if text else None
    if match is None:
        return parse_time(value, now, ahead_ok_s=ahead_ok_s)
    hour, minute, second = int(match.group(1)), int(match.group(2)), int(match.group(3) or 0)
    if hour > 23 or minute > 59 or second > 59:
        raise TimeParseError(f"{text!r} is not a clock time")
    day = _dt.datetime.fromtimestamp(start_unix_s).astimezone()
    candidate = day.replace(hour=hour, minute=minute, second=second, microsecond=0)
    if candidate.timestamp() < start_unix_s:
        candidate = (candidate.replace(tzinfo=None) + _dt.timedelta(days=1)).astimezone()
    result = candidate.timestamp()
    if result > now + FUTURE_TOLERANCE_S + max(0.0, ahead_ok_s):
        raise TimeParseError(f"{text!r} (the first {text} after the start) is {(result - now) / 3600:.1f} h "
                             "from now, still ahead: log it once it has ended")
    return result


def _parse_text(text: str, now: float) -> float:
    if not text:
        raise TimeParseError("an empty time")
    lowered = text.lower()
    if lowered == "now":
        return now
    match = _RELATIVE.match(lowered)
    if match:
        return now - float(match.group(1)) * _UNIT_S[match.group(2)]
    if lowered.startswith("+"):
        raise TimeParseError(f"{text!r} is in the future")
    try:
        return float(text)
    except ValueError:
        pass
    match = _CLOCK.match(text)
    if match:
        hour, minute, second = int(match.group(1)), int(match.group(2)), int(match.group(3) or 0)
        if hour > 23 or minute > 59 or second > 59:
            raise TimeParseError(f"{text!r} is not a clock time")
        today = _dt.datetime.fromtimestamp(now).astimezone()
        candidate = today.replace(hour=hour, minute=minute, second=second, microsecond=0)
        if candidate.timestamp() > now + FUTURE_TOLERANCE_S:
            candidate = (candidate - _dt.timedelta(days=1)).replace(hour=hour, minute=minute, second=second)
            # re-attach the zone for the day before (DST change)
            candidate = candidate.replace(tzinfo=None).astimezone()
        return candidate.timestamp()
    try:
        parsed = _dt.datetime.fromisoformat(text.replace("Z", "+00:00") if text.endswith("Z") else text)
    except ValueError:
        raise TimeParseError(f"{text!r} is not a time I can read") from None
    if parsed.tzinfo is None:
        parsed = parsed.astimezone()  # local time
    return parsed.timestamp()
