"""Logged-data scenarios for the cause tests: for every cause in the taxonomy, one
where the logged evidence ranks it first and one where it does not.

Entries go through the real ``parse_*`` functions, so the scenarios also exercise
the validated input path. Times are relative to ``NOW`` (a fixed instant).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from twitchwatch.causes import parse_exposure, parse_lab, parse_symptom

NOW = 1_795_000_000.0
H = 3600.0
D = 86400.0


@dataclass
class Scenario:
    context: list[dict] = field(default_factory=list)
    symptoms: list[dict] = field(default_factory=list)
    labs: list[dict] = field(default_factory=list)
    events: list[dict] = field(default_factory=list)
    sessions: list[dict] = field(default_factory=list)

    def exp(self, kind, value=None, *, ago_h, until_ago_h=None, unit=None, **detail):
        self.context.append(parse_exposure(kind, value, unit=unit, at=NOW - ago_h * H,
                                           until=None if until_ago_h is None else NOW - until_ago_h * H,
                                           detail=detail or None, now_unix_s=NOW))
        return self

    def sym(self, kind, *, site=None, ago_h=1.0):
        self.symptoms.append(parse_symptom(kind, site=site, at=NOW - ago_h * H, now_unix_s=NOW))
        return self

    def lab(self, analyte, value, unit, *, ago_h=48.0):
        self.labs.append(parse_lab(analyte, value, unit, at=NOW - ago_h * H, now_unix_s=NOW))
        return self

    def twitches(self, from_ago_h, to_ago_h, n, *, site="left calf", session_id=1):
        """``n`` twitches evenly from ``from_ago_h`` to ``to_ago_h`` hours ago, with a
        session recording exactly that span."""
        start, end = NOW - from_ago_h * H, NOW - to_ago_h * H
        self.sessions.append({"id": session_id, "body_site": site, "started_at": start, "ended_at": end})
        step = (end - start) / n
        for i in range(n):
            self.events.append({"id": len(self.events) + 1, "session_id": session_id, "channel": 0, "unit_id": 1,
                                "amplitude_uv": 80.0, "wall_time_s": start + (i + 0.5) * step, "body_site": site})
        return self


def first(cause_id: str) -> Scenario:
    """Logged data in which ``cause_id`` ranks first."""
    s = Scenario()
    if cause_id == "stress":
        s.exp("stress", 8, ago_h=34, until_ago_h=24).twitches(20, 14, 30)
    elif cause_id == "dehydration":
        s.exp("fluid", 600, ago_h=10).exp("exercise", 60, ago_h=5, intensity="hard").twitches(3, 1, 20)
    elif cause_id == "magnesium_deficiency":
        s.lab("magnesium", 0.55, "mmol/L").twitches(5, 1, 20)
    elif cause_id == "calcium_deficiency":
        s.lab("calcium", 7.8, "mg/dL").twitches(5, 1, 20)
    elif cause_id == "vitamin_d_deficiency":
        s.lab("vitamin_d", 9, "ng/mL").lab("calcium", 2.3, "mmol/L").twitches(5, 1, 20)
    elif cause_id == "caffeine":
        s.exp("caffeine", 200, ago_h=3).twitches(2.5, 0.5, 20)
    elif cause_id in ("diuretics", "corticosteroids", "estrogens"):
        cls = {"diuretics": "diuretic", "corticosteroids": "corticosteroid", "estrogens": "estrogen"}[cause_id]
        s.exp("medication", 20, unit="mg", ago_h=5 * 24, name="x", **{"class": cls, "change": "start"}).twitches(5, 1, 20)
    elif cause_id == "benzodiazepine_withdrawal":
        s.exp("medication", 2, unit="mg", ago_h=4 * 24, name="diazepam",
              **{"class": "benzodiazepine", "change": "decrease"}).twitches(5, 1, 20)
    elif cause_id == "organophosphate_poisoning":
        s.exp("pesticide", ago_h=4, organophosphate="yes").twitches(3, 1, 20)
    elif cause_id == "als_mnd":
        s.sym("wasting", site="right hand").sym("speech").sym("weakness", site="right hand").twitches(5, 1, 20)
    elif cause_id == "multiple_sclerosis":
        s.sym("weakness", site="left leg").sym("numbness", site="left leg").sym("vision").twitches(5, 1, 20)
    elif cause_id == "cervical_spondylosis":
        s.sym("neck_pain").sym("numbness", site="left hand").sym("weakness", site="left hand").twitches(5, 1, 20)
    elif cause_id == "nerve_injury":
        s.exp("injury", ago_h=30 * 24, type="compression", site="left forearm").twitches(5, 1, 20, site="left forearm")
    elif cause_id == "head_trauma":
        s.exp("injury", ago_h=10 * 24, type="head").twitches(5, 1, 20)
    else:
        raise KeyError(f"no 'first' scenario for cause {cause_id!r}: add one to tests/causes/scenarios.py")
    return s


def not_first(cause_id: str) -> Scenario:
    """Logged data that mentions ``cause_id``'s exposure or symptom but in which it does
    not rank first (wrong timing, normal lab, no red flag, another cause stronger)."""
    s = Scenario()
    if cause_id == "stress":  # twitches during the stress, not after; caffeine fits
        s.exp("stress", 8, ago_h=6, until_ago_h=0).exp("caffeine", 200, ago_h=3).twitches(2.5, 0.5, 20)
    elif cause_id == "dehydration":  # plenty of fluid; caffeine fits
        s.exp("fluid", 2500, ago_h=6).exp("caffeine", 200, ago_h=3).twitches(2.5, 0.5, 20)
    elif cause_id == "magnesium_deficiency":  # normal magnesium; caffeine fits
        s.lab("magnesium", 0.85, "mmol/L").exp("caffeine", 200, ago_h=3).twitches(2.5, 0.5, 20)
    elif cause_id == "calcium_deficiency":  # normal calcium, low magnesium
        s.lab("calcium", 2.35, "mmol/L").lab("magnesium", 0.55, "mmol/L").twitches(5, 1, 20)
    elif cause_id == "vitamin_d_deficiency":  # vitamin D fine; caffeine fits
        s.lab("vitamin_d", 80, "nmol/L").exp("caffeine", 200, ago_h=3).twitches(2.5, 0.5, 20)
    elif cause_id == "caffeine":  # coffee 10 h before: outside 0.5-6 h; magnesium low
        s.exp("caffeine", 200, ago_h=12).lab("magnesium", 0.55, "mmol/L").twitches(2, 0.5, 20)
    elif cause_id in ("diuretics", "corticosteroids", "estrogens"):  # started and stopped before; stress eased
        cls = {"diuretics": "diuretic", "corticosteroids": "corticosteroid", "estrogens": "estrogen"}[cause_id]
        s.exp("medication", 20, unit="mg", ago_h=20 * 24, name="x", **{"class": cls, "change": "start"})
        s.exp("medication", None, ago_h=10 * 24, name="x", **{"class": cls, "change": "stop"})
        s.exp("stress", 8, ago_h=34, until_ago_h=24).twitches(20, 14, 30)
    elif cause_id == "benzodiazepine_withdrawal":  # dose cut 20 days ago: past 14 d; caffeine fits
        s.exp("medication", 2, unit="mg", ago_h=20 * 24, name="diazepam",
              **{"class": "benzodiazepine", "change": "decrease"}).exp("caffeine", 200, ago_h=3).twitches(2.5, 0.5, 20)
    elif cause_id == "organophosphate_poisoning":  # pesticide 10 days ago: outside the window; magnesium low
        s.exp("pesticide", ago_h=240, organophosphate="no").lab("magnesium", 0.5, "mmol/L").twitches(5, 1, 20)
    elif cause_id in ("als_mnd", "multiple_sclerosis", "cervical_spondylosis"):
        # symptoms that are not red flags (cramps, numbness, vision, neck pain): no rule-out shown; caffeine fits
        s.sym("cramps").sym("numbness", site="left hand").sym("vision").sym("neck_pain")
        s.exp("caffeine", 200, ago_h=3).twitches(2.5, 0.5, 20)
    elif cause_id == "nerve_injury":  # injury two years ago; caffeine fits
        s.exp("injury", ago_h=2 * 365 * 24, type="nerve", site="left forearm").exp("caffeine", 200, ago_h=3)
        s.twitches(2.5, 0.5, 20, site="left forearm")
    elif cause_id == "head_trauma":  # an injury that is not a head injury
        s.exp("injury", ago_h=10 * 24, type="other").exp("caffeine", 200, ago_h=3).twitches(2.5, 0.5, 20)
    else:
        raise KeyError(f"no 'not first' scenario for cause {cause_id!r}: add one to tests/causes/scenarios.py")
    return s
