"""``twitchwatch log``: every kind of entry, and bad input written nowhere (rows counted)."""

from __future__ import annotations

import sqlite3
import time

import pytest

from tw_command import run_twitchwatch

pytest.importorskip("twitchwatch.causes.entries")

from twitchwatch.cli import main  # noqa: E402



tw = run_twitchwatch

TABLES = ("context_entries", "symptoms", "lab_results", "clinical_tests")


def _counts(db) -> dict[str, int]:
    con = sqlite3.connect(db)
    try:
        return {t: con.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in TABLES}
    finally:
        con.close()


def run(db, *args: str) -> int:
    return main(["log", *args, "--db", str(db)])


def test_every_example_from_the_help_is_logged(tmp_path, capsys):
    db = tmp_path / "t.sqlite3"
    at = str(int(time.time()) - 3600)
    good = [
        ("caffeine", "--mg", "200", "--at", "09:30"),
        ("stress", "7", "--at", at, "--until", str(int(at) + 1800)),
        ("fluid", "--ml", "500"),
        ("exercise", "--minutes", "45", "--intensity", "hard"),
        ("supplement", "magnesium", "--dose", "300", "--unit", "mg"),
        ("medication", "prednisolone", "--class", "corticosteroid", "--change", "start", "--dose", "20", "--unit", "mg"),
        ("pesticide", "--organophosphate", "yes"),
        ("pesticide", "roundup"),
        ("injury", "head", "--site", "forehead"),
        ("lab", "magnesium", "0.62", "mmol/L", "--at", at, "--range", "0.70-1.00"),
        ("symptom", "weakness", "--site", "left hand", "--severity", "4"),
        ("test", "emg", "normal", "--at", at, "--note", "Dr. A"),
    ]
    for args in good:
        assert run(db, *args) == 0, args
        assert capsys.readouterr().out.startswith("logged "), args
    assert _counts(db) == {"context_entries": 9, "symptoms": 1, "lab_results": 1, "clinical_tests": 1}
    con = sqlite3.connect(db)
    con.row_factory = sqlite3.Row
    caffeine = con.execute("SELECT * FROM context_entries WHERE kind = 'caffeine'").fetchone()
    assert (caffeine["value"], caffeine["unit"]) == (200, "mg")
    stress = con.execute("SELECT * FROM context_entries WHERE kind = 'stress'").fetchone()
    assert (stress["start_unix_s"], stress["end_unix_s"], stress["value"]) == (int(at), int(at) + 1800, 7)
    med = con.execute("SELECT detail_json FROM context_entries WHERE kind = 'medication'").fetchone()[0]
    assert '"class": "corticosteroid"' in med and '"name": "prednisolone"' in med and '"change": "start"' in med
    lab = con.execute("SELECT * FROM lab_results").fetchone()
    assert (lab["analyte"], lab["value"], lab["unit"], lab["ref_low"], lab["ref_high"], lab["taken_unix_s"]) == (
        "magnesium", 0.62, "mmol/L", 0.70, 1.00, int(at))
    symptom = con.execute("SELECT * FROM symptoms").fetchone()
    assert (symptom["kind"], symptom["site"], symptom["severity"]) == ("weakness", "left hand", 4)
    test = con.execute("SELECT * FROM clinical_tests").fetchone()
    assert (test["kind"], test["result"], test["note"], test["taken_unix_s"]) == ("emg", "normal", "Dr. A", int(at))
    con.close()


def test_a_lab_in_another_unit_is_stored_in_the_canonical_one(tmp_path, capsys):
    db = tmp_path / "t.sqlite3"
    assert run(db, "lab", "magnesium", "1.5", "mg/dL") == 0
    con = sqlite3.connect(db)
    value, unit, entered, unit_entered = con.execute(
        "SELECT value, unit, value_entered, unit_entered FROM lab_results").fetchone()
    con.close()
    assert unit == "mmol/L" and value == pytest.approx(1.5 * 0.4114, abs=1e-3)
    assert (entered, unit_entered) == (1.5, "mg/dL")


BAD = [
    (("coffee", "2"), "accepted kinds: caffeine"),
    (("caffeine", "--mg", "99999"), "outside the accepted range 0-2000 mg"),
    (("caffeine", "--mg", "lots"), "caffeine"),
    (("caffeine", "--mg", "200", "--at", "25:99"), "accepted times"),
    (("caffeine", "--mg", "200", "--at", "2099-01-01 10:00"), "future"),
    (("stress", "7", "--at=-1h", "--until=-2h"), "end time is before"),
    (("stress", "11"), "0-10"),
    (("sleep", "6.5"), "no candidate cause in the taxonomy uses sleep"),
    (("exercise", "--minutes", "45", "--intensity", "extreme"), "accepted intensity: light, moderate, hard"),
    (("supplement", "magnesium", "--dose", "300"), "accepted units"),
    (("alcohol", "2"), "no candidate cause in the taxonomy uses alcohol"),
    (("pesticide", "roundup", "spray"), "takes no amount (got 'spray')"),
    (("caffeine", "200", "--mg", "200"), "give the amount once"),
    (("caffeine", "--site", "calf"), "--site does not apply"),
    (("lab", "magnesium", "0.62", "furlongs"), "accepted units: mmol/l, mg/dl"),
    (("lab", "magnesium", "50", "mmol/L"), "not physiologically possible"),
    (("lab", "unobtainium", "1", "mmol/L"), "accepted analytes"),
    (("lab", "magnesium", "0.62"), "ANALYTE VALUE UNIT"),
    (("lab", "magnesium", "0.62", "mmol/L", "--range", "abc"), "LOW-HIGH"),
    (("lab", "magnesium", "0.62", "mmol/L", "--range", "1.0-0.7"), "not below high"),
    (("symptom", "sneezing"), "accepted symptoms: weakness"),
    (("symptom", "weakness", "--severity", "12"), "0-10"),
    (("test", "mri", "normal"), "accepted: reflex, strength, blood, emg, ncs, biopsy, other"),
    (("test", "emg", "normal", "--at", "yesterday-ish"), "accepted: HH:MM"),
    (("test", "emg", " "), "result is empty"),
]


@pytest.mark.parametrize("args, message", BAD, ids=[" ".join(a) for a, _ in BAD])
def test_bad_input_is_one_line_exit_2_and_nothing_written(tmp_path, capsys, args, message):
    db = tmp_path / "t.sqlite3"
    assert run(db, "caffeine", "--mg", "100") == 0  # the file exists, with one row
    capsys.readouterr()
    before = _counts(db)
    assert run(db, *args) == 2
    err = capsys.readouterr().err
    assert err.startswith("twitchwatch: error: ") and err.count("\n") == 1
    assert message in err
    assert _counts(db) == before


def test_log_as_a_user_runs_it(tmp_path):
    ok = tw("log", "caffeine", "--mg", "200", "--at=-2h", "--db", "t.sqlite3", cwd=tmp_path)
    assert ok.returncode == 0, ok.stderr
    assert ok.stdout.startswith("logged caffeine 200 mg at ")
    bad = tw("log", "coffee", "2", "--db", "t.sqlite3", cwd=tmp_path)
    assert bad.returncode == 2 and "accepted kinds" in bad.stderr and "Traceback" not in bad.stderr
    assert _counts(tmp_path / "t.sqlite3")["context_entries"] == 1
    helped = tw("log", "--help", cwd=tmp_path)
    assert helped.returncode == 0 and "log medication prednisolone" in helped.stdout
