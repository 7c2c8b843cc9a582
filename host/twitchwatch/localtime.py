"""How a time is shown to a person: local time with its zone, everywhere.

Every time printed or written for a person (the end of a run, ``events``, ``log``'s
confirmation line, ``causes``, the report, error lines naming a session) goes through
:func:`shown_time`, so each one says which zone it is in: ``2026-12-07 08:43:00 CET``.
Local time is this computer's zone (``TZ``), with daylight saving as it was at that
moment; a zone without an abbreviation shows its offset (``+0530``).
"""

from __future__ import annotations

import datetime as _dt

from twitchwatch import TwitchwatchError


def shown_time(unix_s: float, *, seconds: bool = True, tz: _dt.tzinfo | None = None) -> str:
    """``unix_s`` as ``YYYY-MM-DD HH:MM[:SS] ZONE`` in ``tz`` (None: this computer's zone)."""
    when = _dt.datetime.fromtimestamp(unix_s, tz) if tz is not None else _dt.datetime.fromtimestamp(unix_s).astimezone()
    zone = when.strftime("%Z") or when.strftime("%z")
    return when.strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M") + f" {zone}"


def zone_name(unix_s: float) -> str:
    """This computer's zone at ``unix_s``, as :func:`shown_time` writes it (e.g. ``CET``)."""
    return shown_time(unix_s).rsplit(" ", 1)[1]


def zone(text: str | None, option: str = "--tz") -> _dt.tzinfo | None:
    """A time zone a person names (an IANA name such as ``Europe/Berlin``), or None for
    this computer's when ``text`` is None; raises :class:`~twitchwatch.TwitchwatchError`
    naming ``option`` for a zone this system does not know."""
    if text is None:
        return None
    import zoneinfo

    try:
        return zoneinfo.ZoneInfo(text.strip())
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise TwitchwatchError(f"{option}: unknown time zone {text!r}; give an IANA name such as Europe/Berlin, "
                               "America/New_York or UTC") from None
