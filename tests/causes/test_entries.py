"""parse_exposure / parse_symptom / parse_lab: normalised dicts, and EntryError naming
what is accepted for every kind of bad input."""

from __future__ import annotations

import datetime as dt

import pytest

from twitchwatch import TwitchwatchError
from twitchwatch.causes import ACCEPTED, EntryError, parse_exposure, parse_lab, parse_symptom

NOW = dt.datetime(2026, 11, 25, 12, 0).astimezone().timestamp()  # local noon


def test_caffeine_normalised():
    entry = parse_exposure("caffeine", 200, at="-100min", now_unix_s=NOW)
    assert entry == {"kind": "caffeine", "start_unix_s": NOW - 6000, "end_unix_s": NOW - 6000,
                     "value": 200.0, "unit": "mg", "detail": {}}


def test_time_formats():
    local_0930 = dt.datetime(2026, 11, 25, 9, 30).astimezone().timestamp()
    assert parse_exposure("caffeine", 100, at="09:30", now_unix_s=NOW)["start_unix_s"] == local_0930
    # 18:00 today is still ahead at noon: yesterday
    y1800 = dt.datetime(2026, 11, 24, 18, 0).astimezone().timestamp()
    assert parse_exposure("caffeine", 100, at="18:00", now_unix_s=NOW)["start_unix_s"] == y1800
    assert parse_exposure("caffeine", 100, at="2026-11-24 18:00", now_unix_s=NOW)["start_unix_s"] == y1800
    assert parse_exposure("caffeine", 100, at="2026-11-24T17:00:00Z", now_unix_s=NOW)["start_unix_s"] == \
        dt.datetime(2026, 11, 24, 17, 0, tzinfo=dt.timezone.utc).timestamp()
    assert parse_exposure("caffeine", 100, at=NOW - 60, now_unix_s=NOW)["start_unix_s"] == NOW - 60
    assert parse_exposure("caffeine", 100, at=str(int(NOW - 60)), now_unix_s=NOW)["start_unix_s"] == int(NOW - 60)
    assert parse_exposure("caffeine", 100, at="-2h", now_unix_s=NOW)["start_unix_s"] == NOW - 7200
    assert parse_exposure("caffeine", 100, at="-3d", now_unix_s=NOW)["start_unix_s"] == NOW - 3 * 86400
    # within the 5-minute tolerance is fine
    assert parse_exposure("caffeine", 100, at=NOW + 240, now_unix_s=NOW)["start_unix_s"] == NOW + 240


@pytest.mark.parametrize("bad", ["yesterday-ish", "25:00", "2026-13-01 10:00", "", "+2h", "-2 fortnights"])
def test_bad_times_name_the_formats(bad):
    with pytest.raises(EntryError) as info:
        parse_exposure("caffeine", 100, at=bad, now_unix_s=NOW)
    assert "accepted times" in str(info.value) and "HH:MM" in str(info.value) and "-2h" in str(info.value)


@pytest.mark.parametrize("future", [NOW + 3600, "2026-11-26 10:00", "2027-01-01T00:00:00"])
def test_future_is_an_error(future):
    with pytest.raises(EntryError, match="future"):
        parse_exposure("caffeine", 100, at=future, now_unix_s=NOW)


def test_unknown_kind_lists_kinds():
    with pytest.raises(EntryError) as info:
        parse_exposure("nicotine", 1, now_unix_s=NOW)
    message = str(info.value)
    assert "nicotine" in message
    for kind in ("caffeine", "stress", "exercise", "fluid", "supplement", "medication", "pesticide", "injury"):
        assert kind in message
    assert isinstance(info.value, TwitchwatchError)


@pytest.mark.parametrize("kind,value,unit,fragment", [
    ("caffeine", 2500, None, "0-2000"),
    ("caffeine", -5, None, "0-2000"),
    ("stress", 11, None, "0-10"),
    ("exercise", 601, None, "0-600"),
    ("fluid", 12000, None, "0-10000"),
    ("fluid", 11, "l", "0-10000"),
    ("caffeine", "lots", None, "0-2000"),
    ("caffeine", float("nan"), None, "0-2000"),
])
def test_impossible_values(kind, value, unit, fragment):
    with pytest.raises(EntryError) as info:
        parse_exposure(kind, value, unit=unit, detail={"intensity": "hard"} if kind == "exercise" else None,
                       now_unix_s=NOW)
    assert fragment in str(info.value)


def test_wrong_unit_lists_units():
    with pytest.raises(EntryError) as info:
        parse_exposure("fluid", 2, unit="gallons", now_unix_s=NOW)
    assert "gallons" in str(info.value) and "ml" in str(info.value) and "fl_oz" in str(info.value)


def test_fluid_litres_to_ml():
    assert parse_exposure("fluid", 1.5, unit="L", now_unix_s=NOW)["value"] == 1500


def test_stress_period():
    entry = parse_exposure("stress", 8, at="2026-11-24 09:00", until="2026-11-24 17:00", now_unix_s=NOW)
    assert entry["end_unix_s"] - entry["start_unix_s"] == 8 * 3600
    with pytest.raises(EntryError, match="before the start"):
        parse_exposure("stress", 8, at="2026-11-24 17:00", until="2026-11-24 09:00", now_unix_s=NOW)


def test_exercise_and_choices():
    entry = parse_exposure("exercise", 45, detail={"intensity": "Hard"}, at="-2h", now_unix_s=NOW)
    assert entry["detail"] == {"intensity": "hard"} and entry["end_unix_s"] - entry["start_unix_s"] == 45 * 60
    with pytest.raises(EntryError) as info:
        parse_exposure("exercise", 45, detail={"intensity": "brutal"}, now_unix_s=NOW)
    assert "light, moderate, hard" in str(info.value)


def test_medication_needs_class_and_change():
    entry = parse_exposure("medication", 40, unit="mg", detail={"name": "Furosemide", "class": "diuretic",
                                                                 "change": "start"}, now_unix_s=NOW)
    assert entry["detail"] == {"name": "Furosemide", "class": "diuretic", "change": "start"}
    assert entry["value"] == 40 and entry["unit"] == "mg"
    with pytest.raises(EntryError) as info:
        parse_exposure("medication", None, detail={"class": "diuretic"}, now_unix_s=NOW)
    assert "change" in str(info.value) and "start, stop, increase, decrease" in str(info.value)
    with pytest.raises(EntryError) as info:
        parse_exposure("medication", None, detail={"class": "statin", "change": "start"}, now_unix_s=NOW)
    assert "diuretic, corticosteroid, estrogen, benzodiazepine, other" in str(info.value)
    with pytest.raises(EntryError, match="unknown detail"):
        parse_exposure("medication", None, detail={"class": "other", "change": "start", "colour": "red"},
                       now_unix_s=NOW)


def test_supplement_and_pesticide():
    entry = parse_exposure("supplement", 300, unit="mg", detail={"name": "magnesium"}, now_unix_s=NOW)
    assert entry["detail"]["name"] == "magnesium"
    with pytest.raises(EntryError, match="magnesium, calcium, vitamin_d, potassium, other"):
        parse_exposure("supplement", 300, unit="mg", detail={"name": "zinc"}, now_unix_s=NOW)
    entry = parse_exposure("pesticide", None, now_unix_s=NOW)
    assert entry["detail"] == {"organophosphate": "unknown"} and entry["value"] is None
    with pytest.raises(EntryError, match="yes, no, unknown"):
        parse_exposure("pesticide", None, detail={"organophosphate": "maybe"}, now_unix_s=NOW)


@pytest.mark.parametrize("kind", ["sleep", "alcohol"])
def test_issue15_item4_kinds_no_rule_reads_are_refused_with_one_line(kind):
    with pytest.raises(EntryError, match=f"{kind} is not logged: no candidate cause in the taxonomy uses {kind}"):
        parse_exposure(kind, 2, now_unix_s=NOW)


def test_issue15_item4_every_offered_kind_is_read_by_a_taxonomy_rule():
    from twitchwatch.causes import load_taxonomy

    tax = load_taxonomy()
    used = {r.get("kind") for c in tax["causes"] for r in c["evidence"]}
    used |= {f["trigger"].get("kind") for f in tax["red_flags"]}
    assert set(ACCEPTED["exposure"]) <= used, set(ACCEPTED["exposure"]) - used
    symptoms_used = {k for c in tax["causes"] for r in c["evidence"] for k in r.get("kinds", [])}
    symptoms_used |= {k for f in tax["red_flags"] for k in f["trigger"].get("kinds", [])}
    assert set(ACCEPTED["symptom"]["kinds"]) - {"cramps"} <= symptoms_used


def test_issue15_item5_no_detail_is_dropped_silently():
    with pytest.raises(EntryError, match="takes no amount"):
        parse_exposure("pesticide", "roundup", now_unix_s=NOW)
    entry = parse_exposure("injury", None, detail={"type": "head", "site": "forehead"}, now_unix_s=NOW)
    assert entry["detail"] == {"type": "head", "site": "forehead"}


def test_issue15_item6_exercise_at_is_when_it_began():
    began = parse_exposure("exercise", 45, at="-2h", now_unix_s=NOW)
    assert (began["start_unix_s"], began["end_unix_s"]) == (NOW - 7200, NOW - 7200 + 2700)
    ended_now = parse_exposure("exercise", 45, now_unix_s=NOW)
    assert (ended_now["start_unix_s"], ended_now["end_unix_s"]) == (NOW - 2700, NOW)
    with pytest.raises(EntryError, match="`at` is when it began"):
        parse_exposure("exercise", 45, at="-10min", now_unix_s=NOW)


def test_symptoms():
    entry = parse_symptom("Weakness", site="Left Calf", severity="moderate", at="-1d", note=" stairs ", now_unix_s=NOW)
    assert entry == {"kind": "weakness", "at_unix_s": NOW - 86400, "site": "left calf", "severity": 5.0, "note": "stairs"}
    with pytest.raises(EntryError) as info:
        parse_symptom("itching", now_unix_s=NOW)
    for kind in ("weakness", "wasting", "cramps", "numbness", "speech", "swallowing", "spreading"):
        assert kind in str(info.value)
    with pytest.raises(EntryError, match="0-10"):
        parse_symptom("cramps", severity=12, now_unix_s=NOW)
    with pytest.raises(EntryError, match="future"):
        parse_symptom("cramps", at=NOW + 86400, now_unix_s=NOW)


@pytest.mark.parametrize("analyte,value,unit,expected", [
    ("magnesium", 1.5, "mg/dL", 1.5 * 0.4114),
    ("magnesium", 0.8, "mmol/L", 0.8),
    ("calcium", 9.0, "mg/dL", 9.0 * 0.2495),
    ("vitamin_d", 20, "ng/mL", 20 * 2.496),
    ("vitamin D", 45, "nmol/l", 45),
    ("potassium", 4.1, "mEq/L", 4.1),
    ("sodium", 140, "mmol/L", 140),
])
def test_lab_conversions(analyte, value, unit, expected):
    lab = parse_lab(analyte, value, unit, now_unix_s=NOW)
    assert lab["value"] == pytest.approx(expected, abs=1e-4)
    assert lab["unit"] in ("mmol/L", "nmol/L")


def test_lab_own_reference_range():
    lab = parse_lab("magnesium", 1.6, "mg/dL", ref_low=1.7, ref_high=2.2, now_unix_s=NOW)
    assert lab["ref_low"] == pytest.approx(1.7 * 0.4114, abs=1e-4) and lab["ref_source"] == "lab"


@pytest.mark.parametrize("analyte,value,unit,fragment", [
    ("magnesium", 50, "mmol/L", "not physiologically possible"),
    ("calcium", 0.1, "mmol/L", "not physiologically possible"),
    ("sodium", 14, "mmol/L", "not physiologically possible"),
    ("vitamin_d", -3, "nmol/L", "not physiologically possible"),
    ("magnesium", 0.8, "g/L", "mmol/l, mg/dl, meq/l"),
    ("vitamin_d", 30, "mmol/L", "nmol/l, ng/ml"),
    ("zinc", 10, "umol/L", "magnesium, calcium, vitamin_d, potassium, sodium"),
])
def test_lab_errors(analyte, value, unit, fragment):
    with pytest.raises(EntryError) as info:
        parse_lab(analyte, value, unit, now_unix_s=NOW)
    assert fragment in str(info.value)


def test_accepted_is_machine_readable():
    assert set(ACCEPTED) >= {"exposure", "symptom", "lab", "time_formats"}
    assert ACCEPTED["exposure"]["caffeine"]["range"] == [0, 2000]
    assert ACCEPTED["exposure"]["medication"]["detail"]["class"] == [
        "diuretic", "corticosteroid", "estrogen", "benzodiazepine", "other"]
    assert ACCEPTED["lab"]["magnesium"]["units"]["mg/dl"] == 0.4114
    import json
    json.dumps(ACCEPTED)
