"""A person's verdict on a candidate cause: one set of words and one rule.

An annotation (a candidate cause on a session or a twitch) is ``suggested`` by the cause
engine until the person ``confirmed`` or ``rejected`` it (``twitchwatch causes
--confirm/--reject``, the page's buttons). Which verdict counts, wherever it is shown or
used (the cause engine's history, the page, the report), is decided here by
:func:`person_verdicts`: the latest one per cause.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

SUGGESTED = "suggested"
CONFIRMED = "confirmed"
REJECTED = "rejected"
#: every status an annotation can have (the store accepts these)
STATUSES = (SUGGESTED, CONFIRMED, REJECTED)
#: what a person can say about a candidate cause
VERDICTS = (CONFIRMED, REJECTED)


def person_verdicts(annotations: Iterable[Mapping[str, Any]]) -> dict[str, str]:
    """``cause_id -> confirmed | rejected``: the person's verdict on each cause among
    ``annotations`` (store rows: ``cause_id``, ``status``, ``updated_at``). The latest
    (``updated_at``) wins; a confirmation and a rejection stored at the same moment:
    confirmed. Causes only suggested are absent."""
    best: dict[str, tuple[float, bool, str]] = {}
    for a in annotations:
        status = a.get("status")
        if status not in VERDICTS:
            continue
        key = (float(a.get("updated_at") or 0.0), status == CONFIRMED, str(status))
        cause = str(a.get("cause_id"))
        if cause not in best or key[:2] > best[cause][:2]:
            best[cause] = key
    return {cause: status for cause, (_, _, status) in sorted(best.items())}


def history(annotations: Iterable[Mapping[str, Any]]) -> list[dict[str, str]]:
    """:func:`person_verdicts` as the cause engine's ``history`` argument
    (``[{"cause_id", "verdict"}]``)."""
    return [{"cause_id": c, "verdict": v} for c, v in person_verdicts(annotations).items()]
