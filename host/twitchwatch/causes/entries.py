"""Validate what a person logs (exposures, symptoms, lab results) before it is written.

Each ``parse_*`` returns a normalised dict (canonical units, unix-second times) or
raises :class:`EntryError` with one message naming what was wrong and what is
accepted. :data:`ACCEPTED` is the same knowledge as data, for the dashboard.

Output keys:

* :func:`parse_exposure`: ``kind, start_unix_s, end_unix_s, value, unit, detail``
* :func:`parse_symptom`: ``kind, at_unix_s, site, severity, note``
* :func:`parse_lab`: ``analyte, value, unit, at_unix_s, ref_low, ref_high,
  ref_source, value_entered, unit_entered``

:func:`parse_entry` is the one entry point for an entry a person logs, on the command
line (``twitchwatch log``) and on the page (``POST /api/log``): it checks which fields
apply (:data:`ENTRY_FIELDS`), the free text (:func:`person_text`) and hands over to
the ``parse_*`` of its category; each front end only maps its own syntax to fields.
"""

from __future__ import annotations

import math
import time
import unicodedata
from typing import Any

from .. import TwitchwatchError
from ..localtime import shown_time
from .timeparse import TIME_FORMATS, TimeParseError, parse_end, parse_time

#: how far ahead the end of a span still going on may lie (stress: "until 18:00" logged in the morning)
ONGOING_AHEAD_S = 24 * 3600.0
_ONGOING = ("stress",)


class EntryError(TwitchwatchError):
    """A logged entry is not acceptable; the message names what was wrong and what is
    accepted (kinds, units, ranges, time formats). Nothing has been written."""


#: The longest free text a person may give (a note, a body site, a name, a result), the
#: same on the command line and the page (:func:`person_text`).
MAX_TEXT_CHARS = 500


# ----------------------------------------------------------------------- accepted
_EXPOSURES: dict[str, dict[str, Any]] = {
    "caffeine": {"value": "dose", "units": {"mg": 1.0}, "unit": "mg", "range": [0, 2000], "value_required": True,
                 "help": "caffeine in mg (a cup of coffee is about 80-100 mg)"},
    "stress": {"value": "level", "units": {"score": 1.0}, "unit": "score", "range": [0, 10], "value_required": True,
               "help": "stress level 0-10 from `at` (start) to `until` (end); twitches are looked for after it ends"},
    "exercise": {"value": "duration", "units": {"min": 1.0, "minutes": 1.0, "h": 60.0}, "unit": "min", "range": [0, 600],
                 "value_required": True, "detail": {"intensity": ["light", "moderate", "hard"]},
                 "help": "minutes of exercise, intensity light/moderate/hard; `at` is when it began "
                         "(without it: it ended now)"},
    "fluid": {"value": "volume", "units": {"ml": 1.0, "l": 1000.0, "fl_oz": 29.5735}, "unit": "ml", "range": [0, 10000],
              "value_required": True, "help": "drinks in ml"},
    "supplement": {"value": "dose", "units": {"mg": 1.0, "ug": 1.0, "iu": 1.0, "g": 1.0}, "unit": None, "range": [0, 1e6],
                   "value_required": False, "detail": {"name": ["magnesium", "calcium", "vitamin_d", "potassium", "other"]},
                   "help": "supplement name and dose (unit mg, ug, g or IU, kept as given)"},
    "medication": {"value": "dose", "units": {"mg": 1.0, "ug": 1.0, "g": 1.0, "ml": 1.0, "iu": 1.0}, "unit": None,
                   "range": [0, 1e6], "value_required": False,
                   "detail": {"class": ["diuretic", "corticosteroid", "estrogen", "benzodiazepine", "other"],
                              "change": ["start", "stop", "increase", "decrease"]},
                   "help": "a medicine change: detail name, class, change (start/stop/increase/decrease); dose optional"},
    "pesticide": {"value": None, "units": {}, "unit": None, "range": None, "value_required": False,
                  "detail": {"organophosphate": ["yes", "no", "unknown"]},
                  "help": "any pesticide exposure; detail organophosphate yes/no/unknown (default unknown)"},
    "injury": {"value": None, "units": {}, "unit": None, "range": None, "value_required": False,
               "detail": {"type": ["nerve", "compression", "head", "other"]},
               "help": "an injury: detail type nerve/compression/head/other, optional site"},
}
_DETAIL_DEFAULTS = {"exercise": {"intensity": "moderate"}, "pesticide": {"organophosphate": "unknown"},
                    "injury": {"type": "other"}}
_DETAIL_REQUIRED = {"supplement": ("name",), "medication": ("class", "change")}
_DETAIL_FREE = {"supplement": ("product",), "medication": ("name",), "pesticide": ("product",),
                "injury": ("site", "description"), "stress": ("what",), "caffeine": ("source",),
                "fluid": ("what",), "exercise": ("what",)}
#: kinds once offered that no cause rule reads: refused with one line rather than stored for nothing
NOT_USED = {"sleep": "no candidate cause in the taxonomy uses sleep",
            "alcohol": "no candidate cause in the taxonomy uses alcohol"}

_SYMPTOMS = ("weakness", "wasting", "cramps", "numbness", "speech", "swallowing", "spreading",
             "vision", "balance", "neck_pain")
_SEVERITY_WORDS = {"mild": 3.0, "moderate": 5.0, "severe": 8.0}

# analyte -> canonical unit, unit factors to canonical, plausible (physiologically possible) range,
# default reference range in the canonical unit and its source (taxonomy.json "sources").
_LABS: dict[str, dict[str, Any]] = {
    "magnesium": {"unit": "mmol/L", "units": {"mmol/l": 1.0, "mg/dl": 0.4114, "meq/l": 0.5},
                  "possible": [0.1, 10.0], "ref": [0.70, 1.00], "ref_source": "nhs-south-tees-mg"},
    "calcium": {"unit": "mmol/L", "units": {"mmol/l": 1.0, "mg/dl": 0.2495, "meq/l": 0.5},
                "possible": [0.5, 6.0], "ref": [2.10, 2.60], "ref_source": "aacb-harmonised"},
    "vitamin_d": {"unit": "nmol/L", "units": {"nmol/l": 1.0, "ng/ml": 2.496, "ug/l": 2.496},
                  "possible": [0.0, 1500.0], "ref": [50.0, 125.0], "ref_source": "iom-2011-vitd"},
    "potassium": {"unit": "mmol/L", "units": {"mmol/l": 1.0, "meq/l": 1.0},
                  "possible": [1.0, 12.0], "ref": [3.5, 5.2], "ref_source": "aacb-harmonised"},
    "sodium": {"unit": "mmol/L", "units": {"mmol/l": 1.0, "meq/l": 1.0},
               "possible": [90.0, 200.0], "ref": [135.0, 145.0], "ref_source": "aacb-harmonised"},
}

_LAB_ALIASES = {"mg": "magnesium", "ca": "calcium", "k": "potassium", "na": "sodium", "vitamin_d_25_oh": "vitamin_d",
                "25_oh_vitamin_d": "vitamin_d", "25_oh_d": "vitamin_d", "25ohd": "vitamin_d", "vitd": "vitamin_d"}

ACCEPTED: dict[str, Any] = {
    "exposure": {
        kind: {
            "help": spec["help"],
            "unit": spec["unit"],
            "units": sorted(spec["units"]),
            "range": spec["range"],
            "value_required": spec["value_required"],
            "detail": {key: list(values) for key, values in spec.get("detail", {}).items()},
            "detail_required": list(_DETAIL_REQUIRED.get(kind, ())),
            "detail_free_text": list(_DETAIL_FREE.get(kind, ())),
        }
        for kind, spec in _EXPOSURES.items()
    },
    "symptom": {"kinds": list(_SYMPTOMS), "severity": {"range": [0, 10], "words": dict(_SEVERITY_WORDS)}},
    "lab": {
        analyte: {"unit": spec["unit"], "units": {u: f for u, f in spec["units"].items()},
                  "possible": spec["possible"], "reference": spec["ref"], "reference_source": spec["ref_source"]}
        for analyte, spec in _LABS.items()
    },
    "time_formats": list(TIME_FORMATS),
    "future_tolerance_s": 300,
    "max_text_chars": MAX_TEXT_CHARS,
}


# ------------------------------------------------------------------------ helpers
def person_text(field: str, value: Any) -> str | None:
    """Free text a person gives (``field`` names it in the error): stripped, None if
    empty. Refused (EntryError, nothing stored) when longer than :data:`MAX_TEXT_CHARS`
    or holding control characters (a terminal escape code, a line break, a NUL), so
    what is stored and echoed back is plain text."""
    if value is None:
        return None
    text = str(value).strip()
    if not text:
        return None
    if len(text) > MAX_TEXT_CHARS:
        raise EntryError(f"{field}: too long ({len(text)} characters; at most {MAX_TEXT_CHARS})")
    if any(unicodedata.category(c) == "Cc" for c in text):
        raise EntryError(f"{field}: holds a control character (a terminal escape code or a line break); "
                         "write plain text on one line")
    return text


def _fmt_range(r: list[float]) -> str:
    return f"{r[0]:g}-{r[1]:g}"


def _time(field: str, value: Any, now: float, what: str) -> float:
    try:
        return parse_time(value, now)
    except TimeParseError as exc:
        raise EntryError(f"{what}: {field} {exc}; accepted times: {'; '.join(TIME_FORMATS)}") from None


def _number(value: Any, what: str, accepted: str) -> float:
    if isinstance(value, bool):
        raise EntryError(f"{what}: {value!r} is not a number; accepted: {accepted}")
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise EntryError(f"{what}: {value!r} is not a number; accepted: {accepted}") from None
    if not math.isfinite(number):
        raise EntryError(f"{what}: {value!r} is not a finite number; accepted: {accepted}")
    return number


def _norm_unit(unit: str) -> str:
    return unit.strip().lower().replace("µ", "u").replace("μ", "u").replace(" ", "").replace("litre", "l").replace("liter", "l")


def _word(value: Any) -> str:
    return str(value).strip().lower().replace("-", "_").replace(" ", "_")


# ----------------------------------------------------------------------- exposure
def parse_exposure(
    kind: str,
    value: str | float | None,
    *,
    unit: str | None = None,
    at: str | float | None = None,
    until: str | float | None = None,
    detail: dict | None = None,
    now_unix_s: float | None = None,
) -> dict:
    """Validate one exposure; return ``{kind, start_unix_s, end_unix_s, value, unit, detail}``.

    ``value`` is converted to the kind's canonical unit (caffeine mg, alcohol drinks,
    stress score 0-10, sleep h, exercise min, fluid ml; supplement/medication doses
    keep the unit given). ``at`` defaults to now; ``end_unix_s`` is ``until`` or, for
    a duration (sleep, exercise), ``at`` + duration, else equal to ``start_unix_s``.
    ``detail`` holds the kind's choices (lower-case) and free text.

    Raises:
        EntryError: unknown kind, value out of range, unknown unit or choice, bad or
            future time, ``until`` before ``at``.
    """
    now = time.time() if now_unix_s is None else float(now_unix_s)
    kinds = ", ".join(_EXPOSURES)
    if isinstance(kind, str) and _word(kind) in NOT_USED:
        raise EntryError(f"{_word(kind)} is not logged: {NOT_USED[_word(kind)]} (docs/causes.md), so it would "
                         f"change nothing; write it as a --note on another entry. Accepted kinds: {kinds}")
    if not isinstance(kind, str) or _word(kind) not in _EXPOSURES:
        raise EntryError(f"unknown exposure kind {kind!r}; accepted kinds: {kinds}")
    kind = _word(kind)
    spec = _EXPOSURES[kind]
    what = f"{kind} entry"

    # value and unit
    number: float | None = None
    out_unit = spec["unit"]
    if value is not None and not (isinstance(value, str) and not value.strip()):
        if spec["value"] is None:  # pesticide/injury: no amount; never dropped silently
            raise EntryError(f"{what}: takes no amount (got {value!r}); accepted detail: "
                             f"{', '.join(list(spec.get('detail', {})) + list(_DETAIL_FREE.get(kind, ())))}")
        else:
            accepted = f"{spec['value']} {_fmt_range(spec['range'])} {spec['unit'] or '(unit: ' + ', '.join(spec['units']) + ')'}"
            number = _number(value, what, accepted)
            if unit is not None:
                key = _norm_unit(unit)
                if key not in spec["units"]:
                    raise EntryError(f"{what}: unknown unit {unit!r}; accepted units: {', '.join(spec['units'])}")
                if spec["unit"] is None:
                    out_unit = "ug" if key == "ug" else ("IU" if key == "iu" else key)
                else:
                    number *= spec["units"][key]
            elif spec["unit"] is None:
                raise EntryError(f"{what}: a dose needs a unit; accepted units: {', '.join(spec['units'])}")
            low, high = spec["range"]
            if not low <= number <= high:
                unit_text = "" if out_unit == "score" else (out_unit or "")
                raise EntryError(f"{what}: {number:g} {unit_text} is outside the accepted range "
                                 f"{_fmt_range(spec['range'])} {unit_text}".replace("  ", " ").strip())
    elif spec["value_required"]:
        raise EntryError(f"{what}: a {spec['value']} is required: {spec['help']}")

    # detail
    if not isinstance(detail, (dict, type(None))):
        raise EntryError(f"{what}: detail must be a dict of {', '.join(list(spec.get('detail', {})) + list(_DETAIL_FREE.get(kind, ()))) or 'nothing'}")
    given = dict(detail or {})
    out_detail: dict[str, Any] = dict(_DETAIL_DEFAULTS.get(kind, {}))
    choices = spec.get("detail", {})
    free = _DETAIL_FREE.get(kind, ())
    for key, raw in given.items():
        k = _word(key)
        if k in choices:
            word = _word(raw)
            if word not in choices[k]:
                raise EntryError(f"{what}: {k} {raw!r} is not accepted; accepted {k}: {', '.join(choices[k])}")
            out_detail[k] = word
        elif k in free:
            text = person_text(f"{what}: {k}", raw)
            if text is not None:
                out_detail[k] = text
        else:
            allowed = list(choices) + list(free)
            raise EntryError(f"{what}: unknown detail {key!r}; accepted detail: {', '.join(allowed) or 'none'}")
    for k in _DETAIL_REQUIRED.get(kind, ()):
        if k not in out_detail:
            raise EntryError(f"{what}: detail {k} is required; accepted {k}: {', '.join(choices[k])}")

    # times
    start = _time("time", at, now, what) if at is not None else now
    end: float
    if until is not None:
        try:
            end = parse_end(until, start, now, ahead_ok_s=ONGOING_AHEAD_S if kind in _ONGOING else 0.0)
        except TimeParseError as exc:
            raise EntryError(f"{what}: end time {exc}; accepted times: {'; '.join(TIME_FORMATS)} "
                             "(HH:MM: the first such time after the start)") from None
        if end < start:
            raise EntryError(f"{what}: the end time is before the start time; give `until` after `at`")
    elif kind == "exercise" and number is not None:
        # one meaning: `at` is when it began; without `at` it ended now
        duration_s = number * 60.0
        if at is None:
            start, end = now - duration_s, now
        else:
            end = start + duration_s
            if end > now + 300:
                raise EntryError(f"{what}: `at` is when it began, so {number:g} min from then ends "
                                 f"{(end - now) / 60:.0f} min from now; log it once it has ended")
    else:
        end = start
    if kind == "stress" and until is None:
        out_detail.setdefault("ongoing_or_moment", True)
    return {"kind": kind, "start_unix_s": start, "end_unix_s": end, "value": number, "unit": out_unit,
            "detail": out_detail}


# ------------------------------------------------------------------------ symptom
def parse_symptom(
    kind: str,
    *,
    site: str | None = None,
    severity: str | float | None = None,
    at: str | float | None = None,
    note: str | None = None,
    now_unix_s: float | None = None,
) -> dict:
    """Validate one symptom; return ``{kind, at_unix_s, site, severity, note}``.

    ``severity``: 0-10 or mild/moderate/severe (3/5/8); None if not given. ``site``
    is free text, lower-cased (e.g. "left calf").

    Raises:
        EntryError: unknown kind, severity out of range, bad or future time.
    """
    now = time.time() if now_unix_s is None else float(now_unix_s)
    if not isinstance(kind, str) or _word(kind) not in _SYMPTOMS:
        raise EntryError(f"unknown symptom {kind!r}; accepted symptoms: {', '.join(_SYMPTOMS)}")
    kind = _word(kind)
    what = f"{kind} symptom"
    level: float | None = None
    if severity is not None:
        if isinstance(severity, str) and _word(severity) in _SEVERITY_WORDS:
            level = _SEVERITY_WORDS[_word(severity)]
        else:
            level = _number(severity, what, "severity 0-10 or mild/moderate/severe")
            if not 0 <= level <= 10:
                raise EntryError(f"{what}: severity {level:g} is outside 0-10; accepted: 0-10 or mild/moderate/severe")
    at_s = _time("time", at, now, what) if at is not None else now
    site_out = person_text(f"{what}: site", site)
    site_out = site_out.lower() if site_out is not None else None
    note_out = person_text(f"{what}: note", note)
    return {"kind": kind, "at_unix_s": at_s, "site": site_out, "severity": level, "note": note_out}


# -------------------------------------------------------------------------- entry
#: the fields each category of entry takes besides its kind, wherever it is logged
ENTRY_FIELDS: dict[str, tuple[str, ...]] = {
    "exposure": ("value", "unit", "at", "until", "detail", "note"),
    "symptom": ("site", "severity", "at", "note"),
    "lab": ("value", "unit", "at", "ref_low", "ref_high", "note"),
}


def parse_entry(category: str, kind: str, fields: dict[str, Any] | None = None, *,
                now_unix_s: float | None = None) -> tuple[str, dict]:
    """Validate one entry a person logs (the command line's and the page's parser):
    ``category`` one of :data:`ENTRY_FIELDS`, ``kind`` (the exposure, symptom or lab
    analyte), ``fields`` by name (None: not given). Returns ``(category, entry)``: the
    ``parse_*`` result of the category, with ``note`` (checked free text) added.

    Raises:
        EntryError: an unknown category, a field given that the category does not take,
            or anything the category's parser refuses; nothing is written.
    """
    if category not in ENTRY_FIELDS:
        raise EntryError(f"category {category!r} is not accepted; accepted: {', '.join(ENTRY_FIELDS)}")
    given = {k: v for k, v in (fields or {}).items() if v is not None}
    wrong = sorted(set(given) - set(ENTRY_FIELDS[category]))
    if wrong:
        raise EntryError(f"{kind}: {', '.join(wrong)} does not apply to {'an' if category == 'exposure' else 'a'} "
                         f"{category}; accepted: {', '.join(ENTRY_FIELDS[category])}")
    now = time.time() if now_unix_s is None else float(now_unix_s)
    note = person_text(f"{kind}: note", given.get("note"))
    if category == "symptom":
        return category, parse_symptom(kind, site=given.get("site"), severity=given.get("severity"),
                                       at=given.get("at"), note=note, now_unix_s=now)
    if category == "lab":
        entry = parse_lab(kind, given.get("value"), given.get("unit"), at=given.get("at"),  # type: ignore[arg-type]
                          ref_low=given.get("ref_low"), ref_high=given.get("ref_high"), now_unix_s=now)
    else:
        entry = parse_exposure(kind, given.get("value"), unit=given.get("unit"), at=given.get("at"),
                               until=given.get("until"), detail=given.get("detail"), now_unix_s=now)
    if note:
        entry["note"] = note
    return category, entry


# ---------------------------------------------------------------------------- lab
def parse_lab(
    analyte: str,
    value: str | float,
    unit: str,
    *,
    at: str | float | None = None,
    ref_low: str | float | None = None,
    ref_high: str | float | None = None,
    now_unix_s: float | None = None,
) -> dict:
    """Validate one blood result; return ``{analyte, value, unit, at_unix_s, ref_low,
    ref_high, ref_source, value_entered, unit_entered}`` with ``value`` and the
    reference range in the canonical unit (mmol/L; vitamin D nmol/L).

    ``ref_low``/``ref_high`` are the lab's own range in the entered unit; without them
    the default range from :data:`ACCEPTED` is used (``ref_source`` names it, or "lab").

    Raises:
        EntryError: unknown analyte or unit, a physiologically impossible value, a
            reference range that is inverted, bad or future time.
    """
    now = time.time() if now_unix_s is None else float(now_unix_s)
    name = _word(analyte) if isinstance(analyte, str) else ""
    name = _LAB_ALIASES.get(name, name)
    if name not in _LABS:
        raise EntryError(f"unknown lab analyte {analyte!r}; accepted analytes: {', '.join(_LABS)}")
    spec = _LABS[name]
    what = f"{name} result"
    units_text = ", ".join(spec["units"])
    if unit is None or _norm_unit(str(unit)) not in spec["units"]:
        raise EntryError(f"{what}: unknown unit {unit!r}; accepted units: {units_text} (stored as {spec['unit']})")
    factor = spec["units"][_norm_unit(str(unit))]
    entered = _number(value, what, f"a number in {units_text}")
    canonical = entered * factor
    low, high = spec["possible"]
    if not low <= canonical <= high:
        raise EntryError(f"{what}: {entered:g} {unit} ({canonical:.3g} {spec['unit']}) is not physiologically possible; "
                         f"accepted: {low:g}-{high:g} {spec['unit']} (units: {units_text})")
    ref = list(spec["ref"])
    ref_source = spec["ref_source"]
    if ref_low is not None or ref_high is not None:
        ref_source = "lab"
        if ref_low is not None:
            ref[0] = _number(ref_low, what, "reference low in the entered unit") * factor
        if ref_high is not None:
            ref[1] = _number(ref_high, what, "reference high in the entered unit") * factor
        if ref[0] >= ref[1]:
            raise EntryError(f"{what}: reference range low {ref[0]:g} is not below high {ref[1]:g} {spec['unit']}")
    at_s = _time("time", at, now, what) if at is not None else now
    return {"analyte": name, "value": round(canonical, 4), "unit": spec["unit"], "at_unix_s": at_s,
            "ref_low": round(ref[0], 4), "ref_high": round(ref[1], 4), "ref_source": ref_source,
            "value_entered": entered, "unit_entered": str(unit)}


def _local(unix_s: float) -> str:
    return shown_time(unix_s)


def describe_entry(table: str, e: dict) -> str:
    """One line saying what was logged (local times with their zone), for the CLI and the dashboard.

    ``table``: exposure, lab, symptom or test; ``e``: the parsed entry.
    """
    if table == "lab":
        rng = f", reference {e['ref_low']:g}-{e['ref_high']:g}" if e.get("ref_low") is not None else ""
        return f"{e['analyte']} {e['value']:g} {e['unit']}{rng}, taken {_local(e.get('at_unix_s') or e['taken_unix_s'])}"
    if table == "symptom":
        site = f" ({e['site']})" if e.get("site") else ""
        sev = f", severity {e['severity']:g}/10" if e.get("severity") is not None else ""
        return f"symptom {e['kind']}{site}{sev} at {_local(e.get('at_unix_s') or e['start_unix_s'])}"
    if table == "test":
        return f"{e['kind']} test: {e['result']} ({_local(e['taken_unix_s'])})"
    amount = f" {e['value']:g} {e['unit'] or ''}".rstrip() if e.get("value") is not None else ""
    detail = "".join(f", {k} {v}" for k, v in (e.get("detail") or {}).items() if isinstance(v, str))
    span = (f" from {_local(e['start_unix_s'])} to {_local(e['end_unix_s'])}"
            if e.get("end_unix_s") not in (None, e["start_unix_s"]) else f" at {_local(e['start_unix_s'])}")
    return f"{e['kind']}{amount}{detail}{span}"
