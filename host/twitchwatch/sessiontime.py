"""A session's recorded time, from its signal alone (docs/store.md, "Recorded time").

A session lasts as long as its signal: the EMG samples received over their rate,
never the host's clock, so a capture or file replayed at any speed, or the
simulator's fast mode, records the time its signal covers. :class:`SignalTime`
counts it per detector run (a run ends at a restart of the device's sample count):

- ``span_s``: from the run's first to one past its last EMG sample (gaps included);
- ``signal_s``: EMG samples received / rate (gaps excluded);
- ``recorded_s``: ``signal_s`` × the run's usable fraction (mean over EMG channels:
  searched samples minus those in artefact segments, :meth:`TwitchDetector.quality`),
  i.e. gaps and unusable stretches excluded. Rates are twitches per recorded time.

``first_wall_s`` is the wall (unix) time of the session's first EMG sample, on the
source's clock (a capture's recording machine, a file's start date), so
``started_at = first_wall_s`` and ``ended_at = started_at + span_s``.
"""

from __future__ import annotations

from typing import Any


def recorded_fraction(session: dict[str, Any]) -> float:
    """The share of a stored session's span (``started_at``..``ended_at``, its signal's
    first to last sample) that is recorded time, from its ``stats`` (``recorded_s`` /
    ``span_s``): gaps and unusable stretches excluded. 1 for a session stored without
    them (older sessions, one still open)."""
    stats = session.get("stats") or {}
    span, recorded = stats.get("span_s"), stats.get("recorded_s")
    if isinstance(span, (int, float)) and isinstance(recorded, (int, float)) and span > 0:
        return min(1.0, max(0.0, recorded / span))
    return 1.0


class SignalTime:
    """Recorded time of one store session (seconds of signal; see the module doc)."""

    def __init__(self) -> None:
        self.span_s = 0.0
        self.signal_s = 0.0
        self.recorded_s = 0.0
        self.first_wall_s: float | None = None
        self._first_index: int | None = None  # of the current run's EMG stream
        self._end_index = 0
        self._samples = 0
        self._rate_hz = 0.0

    def add(self, first_index: int, n: int, rate_hz: float, wall_s: float | None = None) -> None:
        """``n`` EMG samples from ``first_index`` (index of the run), at ``rate_hz``;
        ``wall_s``: the unix time of the first of them, if known."""
        if n <= 0 or not rate_hz > 0:
            return
        if self._first_index is None:
            self._first_index, self._end_index = first_index, first_index
        if self.first_wall_s is None and wall_s is not None:
            self.first_wall_s = wall_s
        self._end_index = max(self._end_index, first_index + n)
        self._samples += n
        self._rate_hz = rate_hz

    def end_run(self, usable_fraction: float | None) -> None:
        """The run's samples are all in: fold them into the session's times.
        ``usable_fraction``: the detector's (mean over channels), None if unknown (1)."""
        if self._first_index is None:
            return
        span_s = (self._end_index - self._first_index) / self._rate_hz
        signal_s = self._samples / self._rate_hz
        usable = 1.0 if usable_fraction is None else min(1.0, max(0.0, usable_fraction))
        self.span_s += span_s
        self.signal_s += signal_s
        self.recorded_s += signal_s * usable
        self._first_index, self._end_index, self._samples = None, 0, 0

    def as_stats(self) -> dict[str, Any]:
        """The numbers stored with the session (``stats_json``)."""
        return {"span_s": round(self.span_s, 6), "signal_s": round(self.signal_s, 6),
                "recorded_s": round(self.recorded_s, 6)}
