"""Candidate causes of twitches: the taxonomy (data), entry validation, annotation,
red flags and trigger statistics. Not a diagnosis: see ``docs/causes.md``.

Public names: :func:`parse_exposure`, :func:`parse_symptom`, :func:`parse_lab`,
:class:`EntryError`, :data:`ACCEPTED`, :func:`annotate_event`,
:func:`annotate_session`, :func:`red_flags`, :class:`Annotation`, :class:`RedFlag`,
:func:`combined`, :func:`trigger_stats`, :func:`rate_ratio`, :func:`rate_trend`,
:func:`load_taxonomy`.
"""

from .annotate import Annotation, RedFlag, annotate_event, annotate_session, combined, red_flags
from .entries import ACCEPTED, EntryError, parse_exposure, parse_lab, parse_symptom
from .stats import RateRatio, Trend, TriggerStat, rate_ratio, rate_trend, trigger_stats
from .taxonomy import load_taxonomy

__all__ = [
    "ACCEPTED", "Annotation", "EntryError", "RateRatio", "RedFlag", "Trend", "TriggerStat",
    "annotate_event", "annotate_session", "combined", "load_taxonomy", "parse_exposure", "parse_lab",
    "parse_symptom", "rate_ratio", "rate_trend", "red_flags", "trigger_stats",
]
