"""The cause taxonomy (``taxonomy.json``): loaded once, checked, read-only.

Every cause and red-flag rule is data; code only interprets the evidence rule types
(``exposure``, ``exposure_during``, ``exposure_sum``, ``lab``, ``lab_normal``,
``symptom``) and trigger types (``symptom``, ``exposure``, ``trend``).

Tests a doctor may order are named per cause and per red flag as
``{"test": id, "why": purpose, "source": source ids}``: the same test has a different
purpose in different places (blood tests *find* a low magnesium, but under a
neurological red flag they only *look for other causes*). Neurological causes
(``suggest: "doctor_only"``) are never candidates: they are only named under a red
flag, in ``looks_into``, as conditions a doctor looks into.
"""

from __future__ import annotations

import functools
import json
import pathlib
from typing import Any

TAXONOMY_PATH = pathlib.Path(__file__).with_name("taxonomy.json")
GROUPS = ("lifestyle", "nutrition", "drug", "toxin", "neurological", "trauma")
EVIDENCE_TYPES = ("exposure", "exposure_during", "exposure_sum", "lab", "lab_normal", "symptom")
ANCHORS = ("start", "end", "while_taken")
_CAUSE_KEYS = ("id", "name", "group", "benign", "red_flag", "suggest", "summary", "evidence", "tests", "source")
SUGGEST = ("yes", "doctor_only")


class TaxonomyError(ValueError):
    """taxonomy.json breaks its own rules (a developer error, caught by the tests)."""


@functools.lru_cache(maxsize=4)
def load_taxonomy(path: str | None = None) -> dict[str, Any]:
    """The parsed and checked taxonomy (cached; treat as read-only)."""
    file = pathlib.Path(path) if path else TAXONOMY_PATH
    data = json.loads(file.read_text(encoding="utf-8"))
    check_taxonomy(data)
    return data


def check_taxonomy(data: dict[str, Any]) -> None:
    """Raise TaxonomyError naming the first broken rule."""
    sources = data.get("sources", {})
    tests = data.get("tests", {})
    seen: set[str] = set()

    def source_ok(text: str, where: str) -> None:
        names = [part.strip().split(",")[0].split(":")[-1].strip() for part in text.split(";")]
        if not any(name in sources or name == "fasciculation-facts (progression)" for name in names):
            raise TaxonomyError(f"{where}: source {text!r} names no entry of 'sources'")

    for cause in data.get("causes", []):
        where = f"cause {cause.get('id')!r}"
        missing = [k for k in _CAUSE_KEYS if k not in cause]
        if missing:
            raise TaxonomyError(f"{where}: missing {missing}")
        if cause["id"] in seen:
            raise TaxonomyError(f"{where}: duplicate id")
        seen.add(cause["id"])
        if cause["group"] not in GROUPS:
            raise TaxonomyError(f"{where}: group {cause['group']!r} not in {GROUPS}")
        if cause["suggest"] not in SUGGEST:
            raise TaxonomyError(f"{where}: suggest must be one of {SUGGEST}")
        if cause["group"] == "neurological" and cause["suggest"] != "doctor_only":
            raise TaxonomyError(f"{where}: neurological causes are never suggested from twitch data")
        if cause["suggest"] == "doctor_only" and cause["tests"]:
            raise TaxonomyError(f"{where}: a doctor_only cause names no tests of its own (its red flags do)")
        if not cause["source"].startswith("seed-article"):
            raise TaxonomyError(f"{where}: every cause comes from the seed article")
        check_tests(cause["tests"], tests, where, source_ok)
        for rule in cause["evidence"]:
            if rule.get("type") not in EVIDENCE_TYPES:
                raise TaxonomyError(f"{where}: unknown evidence type {rule.get('type')!r}")
            if rule["type"] == "exposure" and rule.get("anchor") not in ANCHORS:
                raise TaxonomyError(f"{where}: exposure rule needs anchor in {ANCHORS}")
            if rule["type"] == "exposure" and rule["anchor"] != "while_taken" and len(rule.get("window_h", [])) != 2:
                raise TaxonomyError(f"{where}: exposure rule needs window_h [lo, hi]")
            if not 0 < float(rule.get("weight", 0)) <= 1:
                raise TaxonomyError(f"{where}: weight must be in (0, 1]")
            source_ok(rule.get("source", ""), where)
            if rule["type"] == "exposure" and not cause.get("exposure_label"):
                raise TaxonomyError(f"{where}: a cause with exposure windows needs an exposure_label")
    for flag in data.get("red_flags", []):
        where = f"red flag {flag.get('id')!r}"
        check_tests(flag.get("tests", []), tests, where, source_ok)
        for cause_id in flag.get("looks_into", []):
            if cause_id not in seen:
                raise TaxonomyError(f"{where}: unknown cause {cause_id!r}")
        if "see a doctor" not in flag.get("message", "").lower():
            raise TaxonomyError(f"{where}: the message must say 'see a doctor'")


def check_tests(entries: list, tests: dict[str, Any], where: str, source_ok: Any) -> None:
    """Each entry ``{"test", "why", "source"}``: a known test, a purpose, a source."""
    for entry in entries:
        if not isinstance(entry, dict) or entry.get("test") not in tests:
            raise TaxonomyError(f"{where}: unknown test {entry!r}")
        if not str(entry.get("why", "")).strip():
            raise TaxonomyError(f"{where}: test {entry['test']!r} needs a 'why' (what it is for here)")
        source_ok(str(entry.get("source", "")), f"{where}, test {entry['test']!r}")
        source_ok(tests[entry["test"]].get("source", ""), f"test {entry['test']!r}")


def causes() -> list[dict[str, Any]]:
    """All causes, in taxonomy order."""
    return list(load_taxonomy()["causes"])


def cause(cause_id: str) -> dict[str, Any]:
    for entry in load_taxonomy()["causes"]:
        if entry["id"] == cause_id:
            return entry
    raise KeyError(cause_id)


def test_names(entries: list[dict[str, Any]]) -> list[str]:
    """Plain lines for the tests a doctor may order, in the order given: "name: why"."""
    tests = load_taxonomy()["tests"]
    return [f"{tests[e['test']]['name']}: {e['why']}" for e in entries]


def exposure_label(cause_entry: dict[str, Any]) -> str:
    """What a cause's exposure windows follow, for "twitch rate after …" (e.g. "a
    pesticide exposure", not the poisoning it may lead to)."""
    return str(cause_entry.get("exposure_label") or cause_entry["name"])


def doctor_only(cause_id: str) -> bool:
    """True for causes that are never candidates (neurological): only a doctor looks into them."""
    try:
        return cause(cause_id)["suggest"] == "doctor_only"
    except KeyError:
        return False


def source_text(source_id: str) -> str:
    """Full citation for a source id from ``sources``."""
    return load_taxonomy()["sources"][source_id]
