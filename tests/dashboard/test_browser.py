"""The dashboard in real headless Chromium (Debian's, driven by Playwright) while the
firmware's simulated front end streams under the MicroPython Unix port through a
pseudo-terminal into ``twitchwatch demo`` (the whole real path, nothing mocked)."""

from __future__ import annotations

import os
import re
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
BIN = Path(sys.executable).with_name("twitchwatch")
SEED = 1
DURATION_S = 45

playwright_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install -e .[dev])")
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="Debian chromium is not installed (apt-get install chromium)"),
]


class _Demo:
    """``twitchwatch demo`` in a subprocess; its stderr is collected by a thread."""

    def __init__(self, db: Path) -> None:
        self.proc = subprocess.Popen(
            [str(BIN), "demo", "--duration", str(DURATION_S), "--seed", str(SEED), "--no-browser",
             "--dashboard-port", "0", "-q", "--db", str(db)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.err: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.err.append(line)

    def url(self, timeout_s: float = 30.0) -> str:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            for line in self.err:
                m = re.match(r"dashboard: (http://\S+)", line)
                if m:
                    return m.group(1)
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        raise AssertionError("the demo printed no dashboard address:\n" + "".join(self.err))

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    db = tmp_path_factory.mktemp("browser") / "tw.sqlite3"
    demo = _Demo(db)
    try:
        url = demo.url()
        with playwright_api.sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            # the page's CSP forbids eval, which Playwright's wait_for_function uses; the CSP
            # header itself is checked in test_api
            page = browser.new_page(viewport={"width": 1280, "height": 1000}, bypass_csp=True)
            errors: list[str] = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(url)
            yield {"page": page, "db": db, "url": url, "errors": errors, "demo": demo}
            browser.close()
    finally:
        demo.stop()


def _frames(page) -> int:
    return int(page.get_attribute("#trace", "data-frames-drawn") or 0)


def test_trace_updates_while_the_board_streams(live):
    page = live["page"]
    page.wait_for_function("Number(document.querySelector('#trace').dataset.framesDrawn || 0) >= 5",
                           timeout=30_000)
    first = _frames(page)
    page.wait_for_function(f"Number(document.querySelector('#trace').dataset.framesDrawn) >= {first + 20}",
                           timeout=30_000)
    # the status comes once a second from the pipeline, the frames from the trace: with a cold
    # numba cache the first status can come after 25 frames are drawn, so wait for it too
    page.wait_for_function("document.querySelector('#status').innerText.includes('streaming')", timeout=30_000)
    page.wait_for_function("document.querySelector('#st-quality').textContent.includes('RMS')", timeout=30_000)
    assert "EMG 1: noise" in page.inner_text("#st-quality")  # signal quality per channel, by label
    assert live["errors"] == []


def test_a_twitch_marker_appears_where_the_board_put_a_twitch(live):
    page = live["page"]
    page.wait_for_function("(document.querySelector('#trace').dataset.markerTimes || '') !== ''", timeout=40_000)
    shown = [(int(c), float(t)) for c, t in
             (x.split(":") for x in page.get_attribute("#trace", "data-marker-times").split(","))]
    from twitchwatch.demo import load_simulator
    from twitchwatch.transports.virtual import DEFAULT_FIRMWARE_DIR

    sim = load_simulator(Path(DEFAULT_FIRMWARE_DIR))
    truth = [(tw["channel"], tw["peak_index"] / 2000.0) for tw in sim.twitch_schedule(SEED, 2000 * DURATION_S)]
    for channel, t_s in shown:  # every marker drawn is a twitch the simulated front end emitted (±15 ms)
        assert any(c == channel and abs(t - t_s) <= 0.015 for c, t in truth), (channel, t_s)
    assert page.locator("#events li.event").count() >= 1


def _submit(page, category: str, kind: str, value: str, unit: str | None = None):
    page.select_option("#log-category", category)
    page.select_option("#log-kind", kind)
    page.fill("#log-value", value)
    if unit is not None:
        page.select_option("#log-unit", unit)
    page.click("#log-submit")


def _context_rows(db: Path):
    with sqlite3.connect(db) as conn:
        return conn.execute("SELECT kind, value, unit FROM context_entries ORDER BY id").fetchall()


def test_a_caffeine_entry_from_the_page_lands_in_sqlite(live):
    page, db = live["page"], live["db"]
    _submit(page, "exposure", "caffeine", "200", "mg")
    page.wait_for_selector("#log-message.ok", timeout=10_000)
    assert "caffeine 200 mg" in page.inner_text("#log-message")
    assert ("caffeine", 200.0, "mg") in _context_rows(db)


def test_bad_form_input_is_rejected_with_a_message(live):
    page, db = live["page"], live["db"]
    before = _context_rows(db)
    _submit(page, "exposure", "stress", "14")
    page.wait_for_selector("#log-message.error", timeout=10_000)
    message = page.inner_text("#log-message")
    assert "stress" in message and "10" in message  # says what range is accepted
    _submit(page, "exposure", "caffeine", "a lot", "mg")
    page.wait_for_function("document.querySelector('#log-message').textContent.includes('a lot')", timeout=10_000)
    assert page.locator("#log-message.error").count() == 1
    assert _context_rows(db) == before


def test_times_on_the_page_say_their_zone(live):
    """Issue 15: every time shown says its zone, on the page too (the browser's zone)."""
    page = live["page"]
    page.wait_for_selector("#events li.event", timeout=20_000)
    text = page.inner_text("#events li.event .ev-time")
    shown = re.fullmatch(r"\d{1,2}:\d\d:\d\d(?:\s?[AP]M)?\s(\S+)", text.strip())
    assert shown and shown.group(1) not in ("AM", "PM") and \
        re.fullmatch(r"UTC|GMT([+-]\d{1,2}(:\d\d)?)?|[A-Z]{3,5}|[+-]\d\d:?\d\d", shown.group(1)), text


def test_history_shows_the_session_and_its_events(live):
    page = live["page"]
    page.click("#history-refresh") if page.locator("#history-refresh").count() else None
    page.wait_for_function("document.querySelectorAll('#history-session option[value]:not([value=\"\"])').length >= 1",
                           timeout=10_000)
    value = page.eval_on_selector("#history-session option[value]:not([value=''])", "o => o.value")
    page.select_option("#history-session", value)
    page.wait_for_function("document.querySelectorAll('#history-events tbody tr').length >= 1", timeout=10_000)
    assert live["errors"] == []


def test_logged_context_shows_causes_and_a_symptom_raises_a_red_flag_on_top(live):
    page = live["page"]
    page.select_option("#log-category", "exposure")
    page.select_option("#log-kind", "caffeine")
    page.fill("#log-value", "300")
    page.fill("#log-at", "-1h")  # the twitches now are 1 h after: inside caffeine's 0.5-6 h window
    page.click("#log-submit")
    page.wait_for_selector("#log-message.ok", timeout=10_000)
    page.wait_for_function("document.querySelector('#causes').textContent.toLowerCase().includes('caffeine')",
                           timeout=20_000)
    # the twitches already listed are ranked again: caffeine now shows under them too
    page.wait_for_function("[...document.querySelectorAll('#events li.event')]"
                           ".some(li => li.textContent.toLowerCase().includes('caffeine'))", timeout=20_000)
    page.select_option("#log-category", "symptom")
    page.select_option("#log-kind", "weakness")
    page.fill("#log-site", "left calf")
    page.click("#log-submit")
    page.wait_for_selector("#log-message.ok", timeout=10_000)
    page.wait_for_selector("#red-flags:not([hidden])", timeout=20_000)
    flags = page.inner_text("#red-flags").lower()
    assert "doctor" in flags and "emg" in flags
    # red flags sit above everything else on the page
    assert page.eval_on_selector("#red-flags", "e => e.getBoundingClientRect().top") < \
        page.eval_on_selector("#trace", "e => e.getBoundingClientRect().top")
    target = os.environ.get("TWITCHWATCH_SCREENSHOT")  # e.g. docs/dashboard.png, linked from the README
    if target:
        page.wait_for_selector("#events li.event", timeout=10_000)
        page.evaluate("window.scrollTo(0, 0)")
        page.screenshot(path=target, full_page=True)


def test_a_red_flag_seen_by_a_doctor_from_the_page_is_gone_everywhere(live):
    """Issue 15: the page's "a doctor has seen this" writes the same store entry as
    `twitchwatch log seen-doctor weakness`, and the flag leaves the page and the CLI."""
    page, db = live["page"], live["db"]
    page.wait_for_selector("#red-flags:not([hidden]) button.seen-doctor[data-rule]", timeout=20_000)
    rules = page.eval_on_selector_all("#red-flags button.seen-doctor", "bs => bs.map(b => b.dataset.rule)")
    assert "weakness" in " ".join(rules), rules
    before = subprocess.run([str(BIN), "causes", "--db", str(db)], capture_output=True, text=True, timeout=120)
    assert "RED FLAG" in before.stdout
    for rule in rules:
        page.click(f"#red-flags button.seen-doctor[data-rule='{rule}']")
        page.wait_for_function(
            f"!document.querySelector(\"#red-flags button.seen-doctor[data-rule='{rule}']\")", timeout=20_000)
    page.wait_for_selector("#red-flags", state="hidden", timeout=20_000)
    with sqlite3.connect(db) as conn:
        reviewed = {r[0] for r in conn.execute("SELECT rule_id FROM red_flag_reviews")}
    assert set(rules) <= reviewed
    after = subprocess.run([str(BIN), "causes", "--db", str(db)], capture_output=True, text=True, timeout=120)
    assert after.returncode == 0 and "RED FLAG" not in after.stdout, after.stdout
    assert live["errors"] == []
