"""Annotation engine: which candidate causes the logged evidence may fit, and red flags.

Pure: dicts in (events as from the store, context/symptoms/labs as returned by
``parse_*``), dataclasses out; no I/O, no clock unless ``now_unix_s`` is omitted.

Wording rules: a cause "may fit" or "is linked in your data with"; nothing here says
"you have". Red flags are computed separately from the causes and are always
returned, whatever else fits, whenever their trigger was logged (not limited to a
span) until the person marks the flag seen by a doctor. Neurological causes are never
candidates (never returned as an :class:`Annotation`, never ranked or confirmable):
they are named only in a red flag's ``looks_into``, as conditions a doctor looks into.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any

from ..verdicts import CONFIRMED, REJECTED, VERDICTS
from . import stats as _stats
from .taxonomy import load_taxonomy, test_names

#: the one sentence every view shows when no candidate cause has logged evidence
NO_CANDIDATE = ("No candidate cause has logged evidence in this span. Log what you were exposed to "
                "(twitchwatch log --help) and look again.")
#: how a person ends a red flag once a doctor has seen it (``{rule_id}`` filled in)
SEEN_HINT = "once a doctor has seen this: twitchwatch log seen-doctor {rule_id}"

LAB_MAX_AGE_S = 365 * 86400.0
NO_RISE_CI_HIGH = 1.5   # a rate-ratio CI entirely below this: the windows are not clearly busier


@dataclass
class Annotation:
    """One candidate cause with the evidence for and against it (not a diagnosis)."""

    cause_id: str
    cause_name: str
    group: str
    score: float                       # 0-1: how much logged evidence points this way
    reasons_for: list[str]
    reasons_against: list[str]
    benign: bool
    tests: list[str]                   # tests a doctor may order: "name: what it is for" (may be empty)
    source: str                        # taxonomy source ids (see taxonomy.json "sources")
    summary: str = ""                  # one plain sentence ("… may fit …")
    notes: list[str] = field(default_factory=list)   # neither for nor against (e.g. "not enough data yet")
    advice: str = ""                   # e.g. "talk to the doctor who prescribed it" (taxonomy "advice")


@dataclass
class RedFlag:
    """A reason to see a doctor; never ranked away by a benign explanation."""

    rule_id: str
    message: str                       # plain language, says "see a doctor"
    reasons: list[str]                 # what was logged, and when
    tests: list[str]                   # "name: what it is for here"
    looks_into: list[str] = field(default_factory=list)  # conditions a doctor looks into (names)
    statistic: dict | None = None      # the trend test's numbers for rising_rate
    source: str = ""
    label: str = ""                    # short name, e.g. "weakness"
    since_unix_s: float | None = None  # the earliest trigger still standing (None: a trend)
    how_to_clear: str = ""             # SEEN_HINT for this flag

    def lines(self) -> list[str]:
        """The flag as plain text lines, the same in every text view (causes, events, end of a run)."""
        out = [f"RED FLAG: {self.message}"]
        out += [f"  - {r}" for r in self.reasons]
        if self.looks_into:
            out.append(f"  a doctor may look into: {'; '.join(self.looks_into)}")
        if self.tests:
            out.append("  tests a doctor may order:")
            out += [f"    * {t}" for t in self.tests]
        if self.how_to_clear:
            out.append(f"  ({self.how_to_clear})")
        return out


# ------------------------------------------------------------------ wording
def _ago(seconds: float) -> str:
    seconds = abs(seconds)
    if seconds < 90:
        return f"{seconds:.0f} s"
    minutes = round(seconds / 60)
    if minutes < 60:
        return f"{minutes} min"
    if seconds < 36 * 3600:
        h, m = divmod(minutes, 60)
        return f"{h} h {m} min" if m else f"{h} h"
    days = seconds / 86400
    return f"{days:.0f} days" if days >= 2 else f"{days:.1f} days"


def describe_exposure(entry: dict) -> str:
    """Plain words for a logged exposure: "200 mg caffeine", "stress 8/10" …"""
    kind, value, unit = entry.get("kind"), entry.get("value"), entry.get("unit")
    detail = entry.get("detail") or {}
    if kind == "caffeine":
        return f"{value:g} mg caffeine"
    if kind == "stress":
        return f"stress {value:g}/10"
    if kind == "alcohol":
        return f"{value:g} drinks of alcohol"
    if kind == "fluid":
        return f"{value:g} ml of drinks"
    if kind == "sleep":
        return f"{value:.1f} h sleep"
    if kind == "exercise":
        return f"{detail.get('intensity', 'moderate')} exercise ({value:g} min)"
    if kind == "supplement":
        dose = f" {value:g} {unit}" if value is not None else ""
        return f"{detail.get('name', 'a')} supplement{dose}".replace("_", " ")
    if kind == "medication":
        name = f" ({detail['name']})" if detail.get("name") else ""
        return f"{detail.get('class', 'a')} medicine{name}"
    if kind == "pesticide":
        product = f" to {detail['product']}" if detail.get("product") else ""
        return f"pesticide exposure{product} (organophosphate: {detail.get('organophosphate', 'unknown')})"
    if kind == "injury":
        site = f" ({detail['site']})" if detail.get("site") else ""
        return f"{detail.get('type', 'an')} injury{site}"
    return str(kind)


SYMPTOM_WORDS = {"weakness": "weakness", "wasting": "muscle wasting", "cramps": "cramps", "numbness": "numbness or tingling",
                 "speech": "trouble speaking", "swallowing": "trouble swallowing",
                 "spreading": "twitches spreading to new regions", "vision": "vision trouble",
                 "balance": "balance problems", "neck_pain": "neck pain"}
_CHANGE_WORDS = {"start": "started", "stop": "stopped", "increase": "increased", "decrease": "dose cut"}


def _exposure_prefix(rule: dict, entry: dict) -> tuple[str, float]:
    """Words before the delay, and the instant the delay counts from."""
    desc = describe_exposure(entry)
    if entry.get("kind") == "medication":
        change = _CHANGE_WORDS.get((entry.get("detail") or {}).get("change", ""), "changed")
        return f"{desc} {change}", entry["start_unix_s"]
    end = entry.get("end_unix_s") or entry["start_unix_s"]
    if rule["anchor"] == "end" and end > entry["start_unix_s"]:
        return f"{desc} ended", end
    return desc, entry["start_unix_s"]


def _exposure_reason(rule: dict, entry: dict, t: float, t_last: float | None = None) -> str:
    """"200 mg caffeine 1 h 40 min earlier"; with ``t_last`` (twitches from ``t`` to
    ``t_last``): "200 mg caffeine 33 min to 2 h 27 min earlier"."""
    prefix, ref = _exposure_prefix(rule, entry)
    still = " and still taken then" if rule["anchor"] == "while_taken" else ""
    if t < ref:
        return f"{prefix} {_ago(ref - t)} later"
    near = _ago(t - ref)
    if t_last is not None and t_last >= ref:
        far = _ago(t_last - ref)
        if far != near:
            return f"{prefix} {near} to {far} earlier{still}"
    return f"{prefix} {near} earlier{still}"


def _site_words(text: str | None) -> set[str]:
    if not text:
        return set()
    return {w for w in text.lower().replace("-", " ").replace("_", " ").split() if w not in ("left", "right", "the", "of", "my")}


def _lab_at(labs: list[dict], analyte: str, t: float) -> dict | None:
    """The latest result of ``analyte`` at or before ``t`` (up to a day after), within a year."""
    best = None
    for lab in labs:
        if lab.get("analyte") != analyte:
            continue
        at = lab.get("at_unix_s", 0.0)
        if at > t + 86400 or t - at > LAB_MAX_AGE_S:
            continue
        if best is None or at > best["at_unix_s"]:
            best = lab
    return best


def _lab_text(lab: dict, relation: str, t: float) -> str:
    age = t - lab["at_unix_s"]
    when = "" if abs(age) < 86400 else f" ({_ago(age)} before)"
    return (f"{lab['analyte'].replace('_', ' ')} {_num(lab['value'])} {lab['unit']}{when}, {relation} the "
            f"{_num(lab['ref_low'])}-{_num(lab['ref_high'])} {lab['unit']} range")


def _num(x: float) -> str:
    return f"{x:.2f}" if abs(x) < 10 else f"{x:.0f}"


# ------------------------------------------------------------------ evidence per time point
Item = tuple  # (rule index, weight, text, exposure meta or None)


def _evaluate(cause: dict, t: float, site: str | None, context: list[dict], symptoms: list[dict],
              labs: list[dict], now: float, cache: dict | None = None) -> tuple[list[Item], list[Item]]:
    """Evidence items ``(rule_index, weight, text)`` for and against ``cause`` at time ``t``."""
    pro: list[Item] = []
    con: list[Item] = []
    for index, rule in enumerate(cause["evidence"]):
        kind = rule["type"]
        role_list = con if rule.get("role") == "against" else pro
        weight = float(rule["weight"])
        if kind == "exposure":
            best = None
            key = (cause["id"], index)
            if cache is None or key not in cache:
                windows = _stats.rule_windows(rule, context, now_unix_s=now)
                if cache is not None:
                    cache[key] = windows
            else:
                windows = cache[key]
            for (a, b), entry in windows:
                if a <= t <= b and (best is None or entry["start_unix_s"] > best["start_unix_s"]):
                    best = entry
            if best is not None:
                text = _exposure_reason(rule, best, t)
                w = weight
                inj_site = (best.get("detail") or {}).get("site")
                if rule.get("same_site_weight") and site and _site_words(inj_site) & _site_words(site):
                    w = 1 - (1 - w) * (1 - float(rule["same_site_weight"]))
                    text += ", at the same site as these twitches"
                role_list.append((index, w, text, (rule, best, t)))
        elif kind == "exposure_during":
            for entry in context:
                if (entry.get("kind") == rule["kind"] and (entry.get("value") or 0) >= rule.get("min_value", 0)
                        and entry["end_unix_s"] > entry["start_unix_s"]
                        and entry["start_unix_s"] <= t <= entry["end_unix_s"]):
                    role_list.append((index, weight, f"during {describe_exposure(entry)}, not after it ended "
                                      "(the article's pattern is twitches after stress eases)"))
                    break
        elif kind == "exposure_sum":
            lookback = rule["lookback_h"] * 3600.0
            entries = [e for e in context if e.get("kind") == rule["kind"] and t - lookback <= e["start_unix_s"] <= t]
            if entries:
                total = sum(e.get("value") or 0.0 for e in entries)
                if total < rule["below"]:
                    role_list.append((index, weight, f"only {total:.0f} ml of drinks logged in the "
                                      f"{rule['lookback_h']:g} h before"))
                else:
                    con.append((index, 0.3, f"{total / 1000:.1f} L of drinks logged in the {rule['lookback_h']:g} h before"))
        elif kind in ("lab", "lab_normal"):
            lab = _lab_at(labs, rule["analyte"], t)
            if lab is None:
                continue
            own = lab.get("ref_source") == "lab"
            if kind == "lab":
                if "below" in rule:
                    limit = lab["ref_low"] if own else float(rule["below"])
                    if lab["value"] < limit:
                        w = weight
                        severe = rule.get("severe_below")
                        if severe is not None and lab["value"] < severe:
                            w = float(rule.get("severe_weight", weight))
                        role_list.append((index, w, _lab_text(lab, "below", t)))
                if "above" in rule:
                    limit = lab["ref_high"] if own else float(rule["above"])
                    if lab["value"] > limit:
                        role_list.append((index, weight, _lab_text(lab, "above", t)))
            elif lab["value"] >= lab["ref_low"]:
                role_list.append((index, weight, _lab_text(lab, "within" if lab["value"] <= lab["ref_high"] else "above", t)))
        elif kind == "symptom":
            for symptom in symptoms:
                if symptom.get("kind") not in rule["kinds"] or symptom.get("at_unix_s", 0) > now + 300:
                    continue
                if rule.get("sites") and not (_site_words(symptom.get("site")) & set(rule["sites"])):
                    continue
                where = f" ({symptom['site']})" if symptom.get("site") else ""
                role_list.append((index, weight, f"you logged {rule['why']}{where}"))
                break
    # evidence that only counts next to other evidence (e.g. numbness for a logged nerve injury)
    pro = [p if len(p) == 4 else (*p, None) for p in pro]
    con = [c if len(c) == 4 else (*c, None) for c in con]
    needs_other = {i for i, rule in enumerate(cause["evidence"]) if rule.get("requires_evidence")}
    if needs_other and not [p for p in pro if p[0] not in needs_other]:
        pro = [p for p in pro if p[0] not in needs_other]
    return pro, con


def _combine(weights: list[float]) -> float:
    return 1.0 - math.prod(1.0 - w for w in weights)


def _sources(cause: dict, used: set[int]) -> str:
    parts = [cause["source"]]
    for index in sorted(used):
        src = cause["evidence"][index].get("source", "")
        for part in src.split(";"):
            part = part.strip()
            part = part.removeprefix("window:").strip()
            if part and part not in parts and not part.startswith("seed-article"):
                parts.append(part)
    return "; ".join(parts)


def _verdicts(history: list[dict] | None) -> dict[str, str]:
    out = {}
    for item in history or []:
        if isinstance(item, dict) and item.get("cause_id") and item.get("verdict") in VERDICTS:
            out[item["cause_id"]] = item["verdict"]
    return out


def _build(cause: dict, pro: list[Item], con: list[Item],
           notes: list[str], verdict: str | None) -> Annotation | None:
    pro_w = [p[1] for p in pro]
    con_w = [c[1] for c in con]
    reasons_for = [p[2] for p in pro]
    reasons_against = [c[2] for c in con]
    if verdict == CONFIRMED:
        pro_w.append(0.2)
        reasons_for.append("you marked this as fitting before")
    elif verdict == REJECTED:
        con_w.append(0.5)
        reasons_against.append("you marked this as not fitting before")
    if not pro:
        return None
    score = round(_combine(pro_w) * (1.0 - _combine(con_w)), 4)
    tests = test_names(cause["tests"])
    summary = f"{cause['name'][0].upper()}{cause['name'][1:]} may fit: {reasons_for[0]}."
    return Annotation(cause["id"], cause["name"], cause["group"], score, reasons_for, reasons_against,
                      bool(cause["benign"]), tests, _sources(cause, {item[0] for item in pro + con}),
                      summary, notes, str(cause.get("advice", "")))


def _sort(annotations: list[Annotation]) -> list[Annotation]:
    order = {c["id"]: i for i, c in enumerate(load_taxonomy()["causes"])}
    return sorted(annotations, key=lambda a: (-a.score, order[a.cause_id]))


# ------------------------------------------------------------------ public
def annotate_event(event: dict, context: list[dict], symptoms: list[dict], labs: list[dict],
                   history: list[dict] | None = None, *, now_unix_s: float | None = None) -> list[Annotation]:
    """Candidate causes for one twitch (``event['wall_time_s']``), best first.

    ``history``: the person's earlier verdicts, ``[{"cause_id", "verdict"}]`` with a
    verdict of :data:`twitchwatch.verdicts.VERDICTS` (:func:`twitchwatch.verdicts.history`);
    a rejected cause keeps its evidence but scores lower.
    ``event['body_site']`` (if present) is matched against injury sites.
    Neurological causes are never returned (see :func:`red_flags`).
    """
    now = time.time() if now_unix_s is None else float(now_unix_s)
    context, symptoms, labs = _inputs(context, symptoms, labs)
    t = event.get("wall_time_s")
    if t is None:
        t = now
    verdicts = _verdicts(history)
    out = []
    for cause in candidate_rules():
        pro, con = _evaluate(cause, float(t), event.get("body_site"), context, symptoms, labs, now)
        annotation = _build(cause, pro, con, [], verdicts.get(cause["id"]))
        if annotation is not None:
            out.append(annotation)
    return _sort(out)


def _inputs(context, symptoms, labs) -> tuple[list[dict], list[dict], list[dict]]:
    labs = [lab for lab in _stats.norm_timed(labs, "taken_unix_s") if lab.get("at_unix_s") is not None
            and lab.get("value") is not None]
    for lab in labs:
        if lab.get("ref_low") is None or lab.get("ref_high") is None:
            from .entries import ACCEPTED

            ref = ACCEPTED["lab"].get(lab.get("analyte"), {}).get("reference", [float("-inf"), float("inf")])
            lab["ref_low"] = ref[0] if lab.get("ref_low") is None else lab["ref_low"]
            lab["ref_high"] = ref[1] if lab.get("ref_high") is None else lab["ref_high"]
    return _stats.norm_context(context), _stats.norm_timed(symptoms, "start_unix_s"), labs


def candidate_rules() -> list[dict]:
    """The causes that can be candidates (never the neurological, doctor-only ones)."""
    return [c for c in load_taxonomy()["causes"] if c["suggest"] == "yes"]


def annotate_session(events: list[dict], context: list[dict], symptoms: list[dict], labs: list[dict], *,
                     sessions: list[dict] | None = None, now_unix_s: float | None = None,
                     history: list[dict] | None = None,
                     seen: dict[str, float] | None = None) -> tuple[list[Annotation], list[RedFlag]]:
    """Candidate causes for a set of twitches (best first) and the red flags.

    Evidence per cause is gathered over all events (how many fell in each exposure
    window, with one worded example); with ``sessions`` (recorded time) the trigger
    statistics of :mod:`.stats` add a rate ratio vs the person's baseline, or say
    that there is not enough data yet. The red flags are the full
    :func:`red_flags` list of what is passed in (``seen``: see there), never shortened
    by any annotation; for the flags of everything stored, whatever the span, use
    :func:`twitchwatch.annotations.standing_red_flags`.
    """
    now = time.time() if now_unix_s is None else float(now_unix_s)
    context, symptoms, labs = _inputs(context, symptoms, labs)
    flags = red_flags(events, symptoms, context, now_unix_s=now, sessions=sessions, seen=seen)
    verdicts = _verdicts(history)
    sites = {s.get("id"): s.get("body_site") for s in sessions or []}
    timed = [e for e in events if e.get("wall_time_s") is not None]
    points = [(float(e["wall_time_s"]), e.get("body_site") or sites.get(e.get("session_id"))) for e in timed]
    if not points:
        points = [(now, None)]
    trig = {s.cause_id: s for s in _stats.trigger_stats(timed, sessions, context, now_unix_s=now)} if sessions else {}
    recorded = _stats.recorded_pieces(sessions or [], now_unix_s=now)
    out = []
    cache: dict = {}
    for cause in candidate_rules():
        hits: dict[int, list] = {}
        against: dict[int, list] = {}
        for t, site in points:
            pro, con = _evaluate(cause, t, site, context, symptoms, labs, now, cache)
            for index, w, text, meta in pro:
                hits.setdefault(index, []).append((w, text, meta))
            for index, w, text, _ in con:
                against.setdefault(index, []).append((w, text))
        n = len(timed)
        pro_items, con_items, notes = [], [], []
        for index, items in hits.items():
            rule = cause["evidence"][index]
            w = max(item[0] for item in items)
            text = items[0][1]
            metas = [item[2] for item in items if item[2] is not None]
            if metas and len({id(m[1]) for m in metas}) == 1 and len(metas) > 1:
                suffix = ", at the same site as these twitches" if text.endswith("at the same site as these twitches") else ""
                rule_, entry_, _ = metas[0]
                text = _exposure_reason(rule_, entry_, metas[0][2], metas[-1][2]) + suffix
            elif metas and len(metas) > 1:
                text = f"e.g. {text}"
            if rule["type"] in ("exposure", "exposure_sum") and n > 1:
                text += f" ({len(items)} of {n} twitches)"
            pro_items.append((index, w, text))
        for index, items in against.items():
            rule = cause["evidence"][index]
            # an against-item on only a few twitches should not outweigh the rest
            share = len(items) / max(n, 1)
            w = max(w for w, _ in items) * (share if n > 1 else 1.0)
            text = items[0][1] + (f" ({len(items)} of {n} twitches)" if n > 1 and rule["type"] != "lab_normal" else "")
            con_items.append((index, w, text))
        # exposures logged, windows recorded, but no twitch in them
        if sessions:
            for index, rule in enumerate(cause["evidence"]):
                if rule["type"] != "exposure" or rule.get("role") == "against" or index in hits:
                    continue
                windows = _stats.rule_windows(rule, context, now_unix_s=now)
                covered = [w for w, _ in windows if _stats.recorded_s(recorded, [(w[0], min(w[1], 4e9))]) >= 1800]
                if covered:
                    con_items.append((index, 0.5 if pro_items else 0.3,
                                      f"no twitches recorded in the {len(covered)} window(s) after {describe_exposure(windows[0][1])}"))
        stat = trig.get(cause["id"])
        if stat is not None:
            if not stat.enough:
                notes.append(stat.message)
            elif stat.ci_low is not None and stat.ci_low > 1:
                pro_items.append((-1, 0.35, stat.message))
            elif stat.ci_high is not None and stat.ci_high < 1:
                con_items.append((-1, 0.5, stat.message + " (lower, not higher)"))
            elif stat.ci_high is not None and stat.ci_high < NO_RISE_CI_HIGH:
                # enough data to say the windows are not busier than baseline
                con_items.append((-1, 0.4, stat.message + " (no higher than your baseline)"))
            else:
                notes.append(stat.message + " (no clear difference)")
        annotation = _build(cause, [p for p in pro_items], con_items, notes, verdicts.get(cause["id"]))
        if annotation is not None and annotation.reasons_for:
            out.append(annotation)
    return _sort(out), flags


def red_flags(events: list[dict], symptoms: list[dict], context: list[dict], *, now_unix_s: float,
              sessions: list[dict] | None = None, seen: dict[str, float] | None = None) -> list[RedFlag]:
    """Every red flag the logged data raises, in the taxonomy's order (most urgent first).

    Symptoms (weakness, wasting, speech, swallowing, spreading), any pesticide
    exposure, a logged head injury (however long ago: pass everything logged, not a
    span), and a rising daily twitch rate over weeks (a quasi-Poisson trend test;
    recorded time from ``sessions`` when given).

    ``seen``: ``{rule_id: unix s}`` when the person marked the flag seen by a doctor;
    what was logged up to then no longer raises it (a later entry raises it again), and
    the trend counts only the twitches after it.
    """
    tax = load_taxonomy()
    context, symptoms, _ = _inputs(context, symptoms, [])
    names = {c["id"]: c["name"] for c in tax["causes"]}
    seen = seen or {}
    out: list[RedFlag] = []
    for rule in tax["red_flags"]:
        trigger = rule["trigger"]
        after = seen.get(rule["id"], float("-inf"))
        reasons: list[str] = []
        times: list[float] = []
        statistic = None
        if trigger["type"] == "symptom":
            for symptom in symptoms:
                when = symptom.get("at_unix_s")
                if symptom.get("kind") in trigger["kinds"] and (when is None or when > after):
                    where = f" ({symptom['site']})" if symptom.get("site") else ""
                    ago = f", {_ago(now_unix_s - when)} ago" if when is not None and now_unix_s - when >= 60 else ""
                    word = SYMPTOM_WORDS.get(symptom["kind"], str(symptom["kind"]).replace("_", " "))
                    reasons.append(f"you logged {word}{where}{ago}")
                    times += [when] if when is not None else []
        elif trigger["type"] == "exposure":
            for entry in context:
                if entry.get("kind") != trigger["kind"] or entry["start_unix_s"] <= after:
                    continue
                detail = entry.get("detail") or {}
                if all(detail.get(k) in v for k, v in trigger.get("match", {}).items()):
                    reasons.append(f"you logged {describe_exposure(entry)} {_ago(now_unix_s - entry['start_unix_s'])} ago")
                    times.append(entry["start_unix_s"])
        elif trigger["type"] == "trend":
            mine = [e for e in events if (e.get("wall_time_s") or float("-inf")) > after] if after > float("-inf") \
                else events
            trend = _stats.rate_trend(mine, sessions, now_unix_s=now_unix_s, min_days=trigger["min_days"],
                                      min_days_with_data=trigger["min_days_with_data"], alpha=trigger["alpha"],
                                      min_ratio_per_week=trigger["min_ratio_per_week"])
            if trend.rising:
                reasons.append(trend.message)
                statistic = {"ratio_per_week": trend.ratio_per_week, "ci_low": trend.ci_low, "ci_high": trend.ci_high,
                             "z": trend.z, "p_value": trend.p_value, "dispersion": trend.dispersion,
                             "days_with_data": trend.days_with_data, "days_span": trend.n_days_span,
                             "method": "quasi-Poisson log-linear regression of daily counts, offset log(recorded hours)"}
        if not reasons:
            continue
        out.append(RedFlag(rule["id"], rule["message"], reasons, test_names(rule["tests"]),
                           [names[c] for c in rule.get("looks_into", [])], statistic, rule.get("source", ""),
                           rule.get("label", rule["id"]), min(times) if times else None,
                           SEEN_HINT.format(rule_id=rule["id"])))
    return out


def red_flag_ids() -> list[str]:
    """The red-flag rule ids, in the taxonomy's order (what ``log seen-doctor`` accepts)."""
    return [r["id"] for r in load_taxonomy()["red_flags"]]


def combined(annotations: list[Annotation], flags: list[RedFlag]) -> list[Annotation | RedFlag]:
    """One list for display: every red flag first, then the candidate causes."""
    return [*flags, *annotations]
