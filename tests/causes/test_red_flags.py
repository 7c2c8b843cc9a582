"""Red flags: always returned, never ranked away by a benign explanation."""

from __future__ import annotations

import numpy as np
import pytest

from twitchwatch.causes import RedFlag, annotate_event, annotate_session, combined, red_flags
from twitchwatch.causes.taxonomy import load_taxonomy

from .scenarios import NOW, D, H, Scenario, first

ARTICLE_TESTS = {"reflex and muscle-strength tests", "electromyography (EMG)", "nerve conduction study"}


def _names(tests):
    return {t.split(":")[0] for t in tests}


def test_caffeine_plus_weakness_gives_both_flag_on_top():
    s = first("caffeine").sym("weakness", site="left calf")
    annotations, flags = annotate_session(s.events, s.context, s.symptoms, s.labs, sessions=s.sessions, now_unix_s=NOW)
    assert [f.rule_id for f in flags] == ["weakness"]
    assert annotations[0].cause_id == "caffeine"          # the benign explanation is still shown...
    shown = combined(annotations, flags)
    assert isinstance(shown[0], RedFlag) and shown[0].rule_id == "weakness"   # ...below the flag
    flag = flags[0]
    assert "see a doctor" in flag.message.lower()
    assert ARTICLE_TESTS <= _names(flag.tests)
    assert any("ALS" in c for c in flag.looks_into)
    # the neurological cause is named only under the flag, never a candidate
    assert all(a.group != "neurological" for a in annotations)


@pytest.mark.parametrize("symptom,rule_id", [("weakness", "weakness"), ("wasting", "wasting"),
                                             ("speech", "speech_swallowing"), ("swallowing", "speech_swallowing"),
                                             ("spreading", "spreading")])
@pytest.mark.parametrize("benign", ["caffeine", "magnesium_deficiency", "stress", "dehydration"])
def test_symptom_flag_never_hidden_by_benign_cause(symptom, rule_id, benign):
    s = first(benign).sym(symptom, site="right hand")
    annotations, flags = annotate_session(s.events, s.context, s.symptoms, s.labs, sessions=s.sessions, now_unix_s=NOW)
    assert rule_id in [f.rule_id for f in flags]
    assert annotations[0].cause_id == benign
    assert rule_id in [f.rule_id for f in red_flags(s.events, s.symptoms, s.context, now_unix_s=NOW)]
    # never a neurological candidate on a twitch either
    per_event = annotate_event(s.events[-1], s.context, s.symptoms, s.labs, now_unix_s=NOW)
    assert all(a.group != "neurological" for a in per_event)


@pytest.mark.parametrize("op", ["yes", "no", "unknown"])
def test_any_pesticide_exposure_flags(op):
    s = Scenario().exp("pesticide", ago_h=2, organophosphate=op).twitches(1.5, 0.5, 10)
    flags = red_flags(s.events, s.symptoms, s.context, now_unix_s=NOW)
    assert [f.rule_id for f in flags] == ["pesticide"]
    assert "see a doctor" in flags[0].message.lower() and "emergency" in flags[0].message.lower()
    assert any("organophosphate" in r for r in flags[0].looks_into)
    assert any(t.startswith("a blood cholinesterase test") for t in flags[0].tests)
    # even a pesticide exposure months ago, outside the poisoning window, is still flagged
    old = Scenario().exp("pesticide", ago_h=2000, organophosphate=op)
    assert red_flags([], [], old.context, now_unix_s=NOW)


def test_head_injury_flags():
    s = first("head_trauma")
    assert "head_injury" in [f.rule_id for f in red_flags(s.events, s.symptoms, s.context, now_unix_s=NOW)]


def _daily(rates_per_h, *, hours=2.0, seed=0, start_days_ago=None):
    """Sessions of ``hours`` each day at 20:00 UTC-ish, Poisson twitches at the given rates."""
    rng = np.random.default_rng(seed)
    n = len(rates_per_h)
    start_days_ago = n if start_days_ago is None else start_days_ago
    events, sessions = [], []
    for day, rate in enumerate(rates_per_h):
        a = NOW - (start_days_ago - day) * D
        sessions.append({"id": day + 1, "body_site": "left calf", "started_at": a, "ended_at": a + hours * H})
        k = rng.poisson(rate * hours)
        for t in np.sort(rng.uniform(a, a + hours * H, k)):
            events.append({"session_id": day + 1, "wall_time_s": float(t), "channel": 0, "unit_id": 1})
    return events, sessions


def test_rising_rate_over_weeks_flags_with_statistic():
    rates = list(np.geomspace(3, 24, 28))   # ×8 over 4 weeks: ≈ 1.7× per week
    events, sessions = _daily(rates)
    flags = red_flags(events, [], [], now_unix_s=NOW, sessions=sessions)
    assert [f.rule_id for f in flags] == ["rising_rate"]
    stat = flags[0].statistic
    assert stat["p_value"] < 0.01 and 1.4 < stat["ratio_per_week"] < 2.1
    assert stat["ci_low"] > 1 and stat["days_with_data"] == 28
    assert "per week" in flags[0].reasons[0] and "95 % CI" in flags[0].reasons[0] and "p" in flags[0].reasons[0]
    annotations, session_flags = annotate_session(events, [], [], [], sessions=sessions, now_unix_s=NOW)
    assert "rising_rate" in [f.rule_id for f in session_flags]


@pytest.mark.parametrize("seed", range(5))
def test_flat_rate_no_flag(seed):
    events, sessions = _daily([8.0] * 28, seed=seed)
    assert red_flags(events, [], [], now_unix_s=NOW, sessions=sessions) == []


def test_gaps_in_recording_are_not_a_trend():
    """Same true rate, but recorded hours grow over the weeks: counts rise, rate does not."""
    rng = np.random.default_rng(1)
    events, sessions = [], []
    for day in range(28):
        a = NOW - (28 - day) * D
        hours = 0.5 + day * 0.25
        sessions.append({"id": day + 1, "started_at": a, "ended_at": a + hours * H})
        for t in rng.uniform(a, a + hours * H, rng.poisson(6 * hours)):
            events.append({"session_id": day + 1, "wall_time_s": float(t)})
    assert red_flags(events, [], [], now_unix_s=NOW, sessions=sessions) == []


def test_too_few_days_no_trend_flag():
    events, sessions = _daily(list(np.geomspace(3, 50, 6)))
    assert red_flags(events, [], [], now_unix_s=NOW, sessions=sessions) == []


def test_every_flag_rule_says_see_a_doctor_and_names_article_tests():
    for rule in load_taxonomy()["red_flags"]:
        assert "see a doctor" in rule["message"].lower()
        assert rule["tests"]


def test_no_neurological_cause_without_a_red_flag():
    s = first("caffeine").sym("numbness", site="left hand").sym("vision").sym("neck_pain").sym("cramps")
    annotations, flags = annotate_session(s.events, s.context, s.symptoms, s.labs, sessions=s.sessions, now_unix_s=NOW)
    assert flags == []
    assert all(a.group != "neurological" for a in annotations)
