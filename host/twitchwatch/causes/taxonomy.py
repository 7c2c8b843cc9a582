"""The cause taxonomy (``taxonomy.json``): loaded once, checked, read-only.

Every cause and red-flag rule is data; code only interprets the evidence rule types
(``exposure``, ``exposure_during``, ``exposure_sum``, ``lab``, ``lab_normal``,
``symptom``) and trigger types (``symptom``, ``exposure``, ``trend``).
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
        if cause["suggest"] not in ("yes", "rule_out_only"):
            raise TaxonomyError(f"{where}: suggest must be yes or rule_out_only")
        if cause["group"] == "neurological" and cause["suggest"] != "rule_out_only":
            raise TaxonomyError(f"{where}: neurological causes are never suggested from twitch data")
        if not cause["source"].startswith("seed-article"):
            raise TaxonomyError(f"{where}: every cause comes from the seed article")
        for test in cause["tests"]:
            if test not in tests:
                raise TaxonomyError(f"{where}: unknown test {test!r}")
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
    for flag in data.get("red_flags", []):
        where = f"red flag {flag.get('id')!r}"
        for test in flag.get("tests", []):
            if test not in tests:
                raise TaxonomyError(f"{where}: unknown test {test!r}")
        for cause_id in flag.get("rule_out", []):
            if cause_id not in seen:
                raise TaxonomyError(f"{where}: unknown cause {cause_id!r}")
        if "see a doctor" not in flag.get("message", "").lower():
            raise TaxonomyError(f"{where}: the message must say 'see a doctor'")


def causes() -> list[dict[str, Any]]:
    """All causes, in taxonomy order."""
    return list(load_taxonomy()["causes"])


def cause(cause_id: str) -> dict[str, Any]:
    for entry in load_taxonomy()["causes"]:
        if entry["id"] == cause_id:
            return entry
    raise KeyError(cause_id)


def test_names(test_ids: list[str]) -> list[str]:
    """Plain names of the tests a doctor may order, in the order given."""
    tests = load_taxonomy()["tests"]
    return [tests[t]["name"] for t in test_ids]


def source_text(source_id: str) -> str:
    """Full citation for a source id from ``sources``."""
    return load_taxonomy()["sources"][source_id]
