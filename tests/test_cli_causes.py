"""`twitchwatch causes` and the annotations put on logged twitches, against a real store file."""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path

import pytest

from tw_command import BIN, run_twitchwatch

from twitchwatch.annotations import annotate_stored
from twitchwatch.detect import TwitchEvent
from twitchwatch.store import Store



def tw(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return run_twitchwatch(*args, "--db", str(cwd / "t.sqlite3"), cwd=cwd)


def _twitch(i: int, wall_s: float) -> TwitchEvent:
    return TwitchEvent(sample_index=2000 * i, t_s=float(i), channel=0, channel_label="EMG 1", amplitude_uv=150.0,
                       duration_ms=9.0, confidence=0.9, detector="test", wall_time_s=wall_s, n_phases=3,
                       polarity=1, acc_response_mg=None, unit_id=1)


@pytest.fixture
def store_with_twitches(tmp_path):
    """A 30-minute session ending 10 minutes ago with 12 twitches in it."""
    now = time.time()
    start = now - 40 * 60
    with Store(tmp_path / "t.sqlite3") as store:
        sid = store.start_session(device_id="d", firmware_version="0.1.0", boot_id=1, source="test",
                                  body_site="left calf", started_at=start)
        store.add_events(sid, [_twitch(i, start + 60 + 140 * i) for i in range(12)])
        store.end_session(sid, ended_at=start + 30 * 60)
    return tmp_path, start


def test_caffeine_before_the_twitches_ranks_first_and_lands_on_each_twitch(store_with_twitches):
    tmp, start = store_with_twitches
    logged = tw("log", "caffeine", "--mg", "250", f"--at={int(start - 3600)}", cwd=tmp)
    assert logged.returncode == 0, logged.stderr
    out = tw("causes", "--json", cwd=tmp)
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    assert result["red_flags"] == []
    assert result["causes"][0]["cause_id"] == "caffeine"
    assert any("250 mg caffeine" in r for r in result["causes"][0]["reasons_for"])
    events = json.loads(tw("events", "--json", cwd=tmp).stdout)
    assert len(events) == 12 and all(e["top_cause"] == "caffeine" for e in events)


def test_a_rejected_cause_is_kept_as_rejected_and_never_shown_as_likeliest(store_with_twitches):
    tmp, start = store_with_twitches
    tw("log", "caffeine", "--mg", "250", f"--at={int(start - 3600)}", cwd=tmp)
    rejected = tw("causes", "--reject", "caffeine", cwd=tmp)
    assert rejected.returncode == 0, rejected.stderr
    assert "caffeine: marked rejected on 1 session" in rejected.stdout
    events = json.loads(tw("events", "--json", cwd=tmp).stdout)
    assert all(e["top_cause"] != "caffeine" for e in events)
    with Store(tmp / "t.sqlite3") as store:
        (row,) = [a for a in store.annotations(target="session") if a["cause_id"] == "caffeine"]
        assert row["status"] == "rejected"
        annotate_stored(store)  # recomputing keeps the person's verdict
        (row,) = [a for a in store.annotations(target="session") if a["cause_id"] == "caffeine"]
        assert row["status"] == "rejected"
    unknown = tw("causes", "--confirm", "dehydration", cwd=tmp)
    assert unknown.returncode == 2
    assert "dehydration" in unknown.stderr and "candidates in this span" in unknown.stderr


def test_weakness_is_a_red_flag_on_top_and_neurological_causes_are_never_candidates(store_with_twitches):
    tmp, start = store_with_twitches
    tw("log", "caffeine", "--mg", "250", f"--at={int(start - 3600)}", cwd=tmp)
    tw("log", "symptom", "weakness", "--site", "left calf", cwd=tmp)
    out = tw("causes", cwd=tmp)
    assert out.returncode == 0, out.stderr
    text = out.stdout
    assert "RED FLAG" in text and "see a doctor" in text
    assert text.index("RED FLAG") < text.index("1. caffeine")
    assert "a doctor may look into: motor neuron disease (such as ALS" in text
    assert "rule out" not in text.lower()
    ranked = text[text.index("1. caffeine"):]
    assert "als" not in ranked.lower() and "sclerosis" not in ranked.lower()
    data = json.loads(tw("causes", "--json", cwd=tmp).stdout)
    assert data["red_flags"] and data["red_flags"][0]["tests"]


@pytest.mark.slow
def test_a_recording_session_is_annotated_when_it_ends(tmp_path):
    logged = tw("log", "caffeine", "--mg", "200", "--at=-1h", cwd=tmp_path)
    assert logged.returncode == 0, logged.stderr
    env = dict(os.environ, XDG_DATA_HOME=str(tmp_path / "xdg"))
    demo = subprocess.run([str(BIN), "demo", "--fast", "--duration", "20", "-q", "--db", str(tmp_path / "t.sqlite3")],
                          capture_output=True, text=True, timeout=120, cwd=tmp_path, env=env)
    assert demo.returncode == 0, demo.stderr
    with Store(tmp_path / "t.sqlite3") as store:
        (session,) = store.sessions()
        causes = {a["cause_id"] for a in store.annotations(target="session", target_id=session["id"])}
        assert "caffeine" in causes
        assert store.annotations(target="event"), "each twitch gets its candidates"


def test_a_failing_cause_model_costs_no_recorded_data_and_is_reported(tmp_path, monkeypatch):
    """The pipeline annotates after the session is committed; a failure there is a
    warning in the summary, never a lost twitch or an exception out of the run."""
    import twitchwatch.annotations as annotations
    from twitchwatch.formats import write_edf
    from twitchwatch.formats import open_recording
    from twitchwatch.pipeline import Pipeline
    from twitchwatch.sim import simulate
    from twitchwatch.sinks import annotate_session

    def broken(*args, **kwargs):
        raise RuntimeError("model exploded")

    monkeypatch.setattr(annotations, "annotate_stored", broken)
    rec = simulate("benign_clean", 30.0, seed=4)
    path = tmp_path / "r.edf"
    write_edf(path, rec.emg_uv, rec.emg_rate_hz, emg_labels=list(rec.emg_labels))
    with open_recording(path) as recording, Store(tmp_path / "s.sqlite3") as store:
        summary = Pipeline(None, source_name="file", store=store,
                           after_session=annotate_session).run_recording(recording)
        assert summary.events > 0 and len(store.events()) == summary.events
        assert store.sessions()[0]["ended_at"] is not None
    assert any("model exploded" in w and "twitchwatch causes" in w for w in summary.warnings)
