"""The report as one self-contained HTML file: :func:`build_report`.

Order: disclaimer and red flags, clinician summary, plots (each with a caption, a text
alternative and its numbers in a table), candidate causes, footer. Every string that
comes from the store goes through :func:`html.escape`; images are inline PNG
(``data:`` URLs); a Content-Security-Policy forbids any fetch.
"""

from __future__ import annotations

import base64
import datetime as _dt
import html
import math
import os
import pathlib
import time
from collections import defaultdict
from typing import Any, Iterable, Sequence

from .. import __version__
from ..localtime import shown_time, zone_name
from ..verdicts import CONFIRMED, REJECTED, SUGGESTED
from . import plots
from twitchwatch.causes.annotate import NO_CANDIDATE

from .causes_view import DOCTOR_TESTS, candidate_causes, exposure_stats
from .data import MIN_TWITCHES_PER_UNIT, ReportData, _med_range, gather

DISCLAIMER = ("twitchwatch is not a diagnostic device and this report is not a diagnosis. It shows what "
              "the sensor recorded and what you logged, to help you and your doctor talk about it.")
MAX_UNITS_IN_AMPLITUDE_PLOT = 30

_CSS = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;max-width:60em;margin:1em auto;padding:0 1em;color:#222}
h1{font-size:1.5em;margin-bottom:.2em}h2{border-bottom:1px solid #ccc;padding-bottom:.2em;margin-top:1.6em}
table{border-collapse:collapse;margin:.5em 0 1em}th,td{border:1px solid #ccc;padding:.2em .5em;text-align:left;vertical-align:top}
td.n,th.n{text-align:right}table.small{font-size:12px}
.disclaimer{background:#f4f4f4;border-left:4px solid #888;padding:.4em .8em}
.redflags{background:#fff0f0;border:2px solid #c00;padding:.2em 1em 1em;margin:1em 0}
.redflags h2{color:#a00;border:none}
.flag-low,.flag-high{color:#a00;font-weight:bold}
figure{margin:1em 0}figure img{max-width:100%;height:auto}figcaption{font-size:13px;color:#444}
.status-confirmed{color:#060;font-weight:bold}.status-rejected{color:#888;text-decoration:line-through}
.muted{color:#666}footer{margin-top:2em;font-size:12px;color:#555;border-top:1px solid #ccc}
"""


# ------------------------------------------------------------------ formatting
def esc(value: Any) -> str:
    """Escape anything for HTML text and attributes ('None' for None is never shown)."""
    return html.escape("" if value is None else str(value), quote=True)


def fmt_time(unix_s: float | None) -> str:
    """Local time to the minute, with its zone (``2026-12-07 08:43 CET``); "—" if unknown."""
    if unix_s is None:
        return "—"
    return shown_time(unix_s, seconds=False)


def fmt_num(value: float | None, digits: int = 1) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "—"
    return f"{value:,.{digits}f}"


def fmt_range(triple: tuple[float, float, float] | None, digits: int = 1) -> str:
    if triple is None:
        return "—"
    med, lo, hi = triple
    return f"{fmt_num(med, digits)} ({fmt_num(lo, digits)}–{fmt_num(hi, digits)})"


def fmt_duration(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.0f} s"
    if seconds < 3600:
        return f"{seconds / 60:.1f} min"
    return f"{seconds / 3600:.2f} h"


def table(headers: Sequence[str], rows: Iterable[Sequence[Any]], *, numeric: Sequence[int] = (),
          cls: str = "") -> str:
    """An HTML table; every cell is escaped; ``numeric`` columns right-aligned."""
    num = set(numeric)
    head = "".join(f'<th{" class=n" if i in num else ""}>{esc(h)}</th>' for i, h in enumerate(headers))
    body = "".join(
        "<tr>" + "".join(f'<td{" class=n" if i in num else ""}>{esc(c)}</td>' for i, c in enumerate(row)) + "</tr>"
        for row in rows)
    attr = f' class="{esc(cls)}"' if cls else ""
    return f"<table{attr}><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def figure(png: bytes, alt: str, caption: str, numbers_html: str) -> str:
    b64 = base64.b64encode(png).decode("ascii")
    return (f'<figure><img src="data:image/png;base64,{b64}" alt="{esc(alt)}">'
            f"<figcaption>{esc(caption)}</figcaption></figure>{numbers_html}")


# ------------------------------------------------------------------- sections
def _red_flags_html(flags: list[dict[str, Any]]) -> str:
    if not flags:
        return ""
    items = []
    for f in flags:
        reasons = f.get("reasons") or []
        tests = f.get("tests") or list(DOCTOR_TESTS)
        looks = f.get("looks_into") or []
        items.append(f"<li><strong>{esc(f.get('message'))}</strong>"
                     + ("<ul>" + "".join(f"<li>{esc(r)}</li>" for r in reasons) + "</ul>" if reasons else "")
                     + (f"<p>A doctor may look into: {esc('; '.join(looks))}.</p>" if looks else "")
                     + "<p>Tests a doctor may order:</p><ul>" + "".join(f"<li>{esc(t)}</li>" for t in tests) + "</ul>"
                     + (f"<p class=muted>({esc(f['how_to_clear'])})</p>" if f.get("how_to_clear") else "")
                     + "</li>")
    return ('<section id="red-flags" class="redflags"><h2>Please see a doctor</h2>'
            "<p>What you logged includes something that should be checked by a doctor soon, whenever it "
            "was logged: a red flag stays until you mark it seen by a doctor. "
            "This is not a diagnosis; many people with these signs turn out to have a harmless cause, "
            "but only an examination can tell.</p>"
            f"<ul>{''.join(items)}</ul></section>")


def _summary_html(d: ReportData) -> str:
    days = (d.now_unix_s - d.since_unix_s) / 86400.0
    parts = ['<section id="summary"><h2>Summary for your clinician</h2>',
             f"<p>Period: {esc(fmt_time(d.since_unix_s))} to {esc(fmt_time(d.now_unix_s))} "
             f"({days:.1f} days, local time). Recorded: {fmt_num(d.total_recorded_h, 2)} h in "
             f"{len(d.sessions)} session(s); {len(d.events)} twitch(es) detected; "
             f"body site(s): {esc(', '.join(s.site for s in d.sites)) or '—'}.</p>"]
    parts.append("<h3>Twitches per body site</h3>")
    parts.append(table(
        ["body site", "sessions", "recorded h", "twitches", "per hour", "per minute", "motor units",
         "most units in one session", "single twitches", "amplitude µV median (range)", "duration ms median (range)"],
        [[s.site, s.sessions, fmt_num(s.recorded_h, 2), s.n_events, fmt_num(s.rate_per_h, 1),
          fmt_num(s.rate_per_min, 2), s.units, s.max_units_in_session, s.single_twitches, fmt_range(s.amplitude_uv),
          fmt_range(s.duration_ms)] for s in d.sites],
        numeric=range(1, 9)))
    parts.append("<p class=muted>Rates count only recorded time. Motor units: twitch shapes (unit ids) seen at "
                 f"least {MIN_TWITCHES_PER_UNIT} times in a session, summed over sessions (the same unit seen in "
                 "two sessions counts twice). Single twitches matched no other twitch's shape: one twitch "
                 "cannot tell a rare unit from a shape the noise changed, so they are not counted as units.</p>")
    parts.append("<h3>Signal quality</h3>")
    parts.append(table(
        ["body site", "noise floor µV RMS (median)", "usable fraction", "rejected as artefact"],
        [[s.site, fmt_num(s.noise_floor_uv, 1),
          "—" if s.usable_fraction is None else f"{100 * s.usable_fraction:.0f} %", fmt_duration(s.artefact_s)]
         for s in d.sites], numeric=(1, 2, 3)))
    if d.artefact_by_kind_s:
        parts.append("<p>Rejected segments by kind: " + esc(", ".join(
            f"{k} {fmt_duration(v)}" for k, v in d.artefact_by_kind_s.items())) + ".</p>")
    parts.append("<details><summary>Sessions</summary>" + table(
        ["session", "body site", "start", "end", "recorded h", "twitches", "units (+ single twitches)", "noise floor µV",
         "usable", "artefact"],
        [[s.id, s.site, fmt_time(s.start_unix_s), fmt_time(s.end_unix_s) + (" (no stored end)" if s.open_ended else ""),
          fmt_num(s.recorded_h, 2), s.n_events, f"{s.units} (+{s.single_twitches})", fmt_num(s.noise_floor_uv, 1),
          "—" if s.usable_fraction is None else f"{100 * s.usable_fraction:.0f} %", fmt_duration(s.artefact_s)]
         for s in d.sessions], numeric=(0, 4, 5, 6, 7, 8, 9), cls="small") + "</details>")
    parts.append(_logged_html(d))
    for note in d.notes:
        parts.append(f"<p class=muted>{esc(note)}</p>")
    parts.append("</section>")
    return "".join(parts)


def _unavailable(what: str) -> str:
    return f"<p class=muted>{esc(what)}: not available in this version of the database.</p>"


def _logged_html(d: ReportData) -> str:
    out = ["<h3>Logged exposures</h3>"]
    if d.context is None:
        out.append(_unavailable("Exposures"))
    elif not d.context:
        out.append("<p>None logged in this period.</p>")
    else:
        by_kind: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for c in d.context:
            by_kind[str(c.get("kind"))].append(c)
        out.append(table(["kind", "entries", "total", "first", "last"], [
            [k, len(v), _total(v), fmt_time(v[0].get("start_unix_s")), fmt_time(v[-1].get("start_unix_s"))]
            for k, v in sorted(by_kind.items())], numeric=(1, 2)))
        out.append("<details><summary>All entries</summary>" + table(
            ["start", "end", "kind", "amount", "note"],
            [[fmt_time(c.get("start_unix_s")), fmt_time(c.get("end_unix_s")), c.get("kind"),
              _amount(c.get("value"), c.get("unit")), c.get("note") or ""] for c in d.context], cls="small")
            + "</details>")
    out.append("<h3>Symptoms</h3>")
    if d.symptoms is None:
        out.append(_unavailable("Symptoms"))
    elif not d.symptoms:
        out.append("<p>None logged in this period.</p>")
    else:
        out.append(table(["when", "symptom", "site", "severity", "note"], [
            [fmt_time(s.get("start_unix_s")), s.get("kind"), s.get("site") or "",
             "" if s.get("severity") is None else fmt_num(float(s["severity"]), 0), s.get("note") or ""]
            for s in d.symptoms]))
    out.append("<h3>Lab results</h3>")
    if d.labs is None:
        out.append(_unavailable("Lab results"))
    elif not d.labs:
        out.append("<p>None logged.</p>")
    else:
        rows = []
        for lab in d.labs:
            flag = lab_flag(lab)
            ref = _ref(lab.get("ref_low"), lab.get("ref_high"))
            if ref != "—" and lab.get("ref_source"):
                source = lab["ref_source"]
                ref += " (the lab's range)" if source == "lab" else f" (default range: {source})"
            value = _amount(lab.get("value"), lab.get("unit"))
            entered = _amount(lab.get("value_entered"), lab.get("unit_entered"))
            if lab.get("value_entered") is not None and entered != value:
                value += f" (entered as {entered})"
            rows.append(f"<tr><td>{esc(fmt_time(lab.get('taken_unix_s')))}</td><td>{esc(lab.get('analyte'))}</td>"
                        f"<td class=n>{esc(value)}</td><td>{esc(ref)}</td>"
                        f'<td class="flag-{esc(flag)}">{esc(flag)}</td></tr>')
        out.append("<table><thead><tr><th>taken</th><th>analyte</th><th class=n>value</th><th>reference range</th>"
                   "<th>flag</th></tr></thead><tbody>" + "".join(rows) + "</tbody></table>")
    out.append("<h3>Clinical tests</h3>")
    if d.clinical_tests is None:
        out.append(_unavailable("Clinical tests"))
    elif not d.clinical_tests:
        out.append("<p>None logged.</p>")
    else:
        out.append(table(["when", "test", "result", "note"], [
            [fmt_time(t.get("taken_unix_s")), t.get("kind"), t.get("result"), t.get("note") or ""]
            for t in d.clinical_tests]))
    return "".join(out)


def lab_flag(lab: dict[str, Any]) -> str:
    """'low' / 'high' against the logged reference range, '' inside it or without one."""
    value, lo, hi = lab.get("value"), lab.get("ref_low"), lab.get("ref_high")
    if value is None:
        return ""
    if lo is not None and value < lo:
        return "low"
    if hi is not None and value > hi:
        return "high"
    return ""


def _ref(lo: Any, hi: Any) -> str:
    if lo is None and hi is None:
        return "—"
    if lo is None:
        return f"≤ {hi:g}"
    if hi is None:
        return f"≥ {lo:g}"
    return f"{lo:g}–{hi:g}"


def _amount(value: Any, unit: Any) -> str:
    if value is None:
        return ""
    try:
        return f"{float(value):g} {unit or ''}".strip()
    except (TypeError, ValueError):
        return f"{value} {unit or ''}".strip()


def _total(entries: list[dict[str, Any]]) -> str:
    units = {e.get("unit") for e in entries if e.get("value") is not None}
    if len(units) != 1:
        return ""
    return _amount(sum(float(e["value"]) for e in entries if e.get("value") is not None), units.pop())


def _plots_html(d: ReportData, stats_rows: list[dict[str, Any]] | None, stats_note: str | None) -> str:
    site_order = [s.site for s in d.sites]
    parts = ['<section id="plots"><h2>Plots</h2>']

    # 1. rate per day per site
    rates = {site: [r["rate_per_h"] for r in d.day_rows if r["site"] == site] for site in site_order}
    png = plots.rate_by_day_png(d.days, rates)
    parts.append("<h3>Twitch rate per day</h3>")
    parts.append(figure(
        png, "Line chart of twitches per recorded hour for each day and body site; the table below gives the numbers.",
        "Twitches per recorded hour, per calendar day and body site. Days without recording are gaps, not zeros.",
        table(["day", "body site", "recorded h", "twitches", "per hour"],
              [[r["day"].isoformat(), r["site"], fmt_num(r["recorded_h"], 2), r["n_events"], fmt_num(r["rate_per_h"], 1)]
               for r in d.day_rows if r["recorded_h"] > 0 or r["n_events"]], numeric=(2, 3, 4), cls="small")))

    # 2. raster by unit
    units = _unit_groups(d)
    labels = list(units)
    index = {lab: i for i, lab in enumerate(labels)}
    with_unit = [e for e in d.events if e.get("unit_id") is not None]
    png = plots.unit_raster_png(
        [_dt.datetime.fromtimestamp(e["time_unix_s"]) for e in with_unit],
        [index[_unit_label(e)] for e in with_unit], [e["site"] for e in with_unit], labels, site_order=site_order,
        time_label=f"local time ({', '.join(sorted({zone_name(e['time_unix_s']) for e in with_unit}))})")
    missing = len(d.events) - len(with_unit)
    parts.append("<h3>Twitches by motor unit</h3>")
    parts.append(figure(
        png, f"Raster of {len(with_unit)} twitches over time, one row per motor unit ({len(labels)} rows), "
             "coloured by body site; the table below lists each unit.",
        "Each tick is one twitch; each row one motor unit (session number / unit id within that session)."
        + (f" {missing} twitch(es) without a unit id are not drawn." if missing else ""),
        table(["unit", "body site", "twitches", "first", "last"],
              [[lab, v["site"], len(v["amps"]), fmt_time(min(v["times"])), fmt_time(max(v["times"]))]
               for lab, v in units.items()], numeric=(2,), cls="small")))

    # 3. rate vs exposure
    parts.append("<h3>Twitch rate after exposures</h3>")
    if stats_rows is None:
        parts.append(f"<p class=muted>{esc(stats_note or 'Trigger statistics are not available.')}</p>")
    elif not stats_rows:
        parts.append("<p>No exposures logged in this period, so there is nothing to compare.</p>")
    else:
        png = plots.exposure_ratio_png(stats_rows)
        parts.append(figure(
            png, "Dot plot of the twitch rate after each kind of exposure divided by the rate at other recorded "
                 "times, with confidence intervals; the table below gives the numbers.",
            "Rate after the exposure ÷ rate at other recorded times, with its confidence interval "
            "(1 = no difference). An interval that includes 1 shows no clear link in your data.",
            table(["exposure", "after: twitches / recorded h", "baseline: twitches / recorded h",
                   "rate after (/h)", "baseline rate (/h)", "ratio", "95 % confidence interval", "note"],
                  [[r["kind"], _count_hours(r.get("n_after"), r.get("exposed_h")),
                    _count_hours(r.get("n_baseline"), r.get("baseline_h")),
                    fmt_num(r.get("rate_after_per_h"), 1), fmt_num(r.get("rate_baseline_per_h"), 1),
                    fmt_num(r.get("ratio"), 2),
                    "—" if r.get("ci_low") is None else f"{fmt_num(r['ci_low'], 2)}–{fmt_num(r.get('ci_high'), 2)}",
                    r.get("message") or ""] for r in stats_rows], numeric=(1, 2, 3, 4, 5), cls="small")))

    # 4. amplitude per unit
    chosen = set(units_to_draw(units, MAX_UNITS_IN_AMPLITUDE_PLOT))
    shown = [lab for lab in labels if lab in chosen]
    png = plots.amplitude_by_unit_png({lab: units[lab]["amps"] for lab in shown},
                                      {lab: units[lab]["site"] for lab in shown}, site_order=site_order)
    parts.append("<h3>Amplitude per motor unit</h3>")
    more = len(units) - len(shown)
    parts.append(figure(
        png, f"Box plot of twitch amplitude for {len(shown)} motor units; the table below gives median and range.",
        "Peak-to-peak amplitude (µV) of each unit's twitches: box = middle half, line = median, whiskers = 1.5 × IQR."
        + (f" Only the {len(shown)} units with the most twitches are drawn ({more} more in the table)." if more else ""),
        table(["unit", "body site", "twitches", "amplitude µV median (range)"],
              [[lab, v["site"], len(v["amps"]), fmt_range(_med_range(v["amps"]))] for lab, v in units.items()],
              numeric=(2,), cls="small")))
    parts.append("</section>")
    return "".join(parts)


def _count_hours(n: Any, hours: Any) -> str:
    if n is None or hours is None:
        return "—"
    return f"{n} / {fmt_num(float(hours), 1)}"


def units_to_draw(units: dict[str, dict[str, Any]], limit: int) -> list[str]:
    """At most ``limit`` unit labels: the units with the most twitches, taken in turn
    from each site so a site with few twitches still shows."""
    per_site: dict[str, list[str]] = defaultdict(list)
    for lab in sorted(units, key=lambda lab: -len(units[lab]["amps"])):
        per_site[units[lab]["site"]].append(lab)
    chosen: list[str] = []
    queues = list(per_site.values())
    while len(chosen) < limit and any(queues):
        for q in queues:
            if q and len(chosen) < limit:
                chosen.append(q.pop(0))
    return chosen


def _unit_label(e: dict[str, Any]) -> str:
    return f"S{e['session_id']}/U{e['unit_id']}"


def _unit_groups(d: ReportData) -> dict[str, dict[str, Any]]:
    """Units in site order, then session, then unit id."""
    site_rank = {s.site: i for i, s in enumerate(d.sites)}
    evs = sorted((e for e in d.events if e.get("unit_id") is not None),
                 key=lambda e: (site_rank.get(e["site"], 0), e["session_id"], e["unit_id"]))
    groups: dict[str, dict[str, Any]] = {}
    for e in evs:
        g = groups.setdefault(_unit_label(e), {"site": e["site"], "amps": [], "times": []})
        g["amps"].append(float(e["amplitude_uv"]))
        g["times"].append(e["time_unix_s"])
    return groups


def _causes_html(causes: list[dict[str, Any]] | None, note: str | None) -> str:
    parts = ['<section id="causes"><h2>Candidate causes</h2>',
             "<p>Possible explanations that may fit your data, ranked by how well they fit. "
             "This is not a diagnosis: most twitches have harmless causes, and only a doctor can tell.</p>"]
    if causes is None:
        parts.append(f"<p class=muted>{esc(note or 'Candidate causes are not available.')}</p>")
    elif not causes:
        parts.append(f"<p>{esc(NO_CANDIDATE)}</p>")
    else:
        parts.append("<ol>")
        for c in causes:
            status = c.get("status", SUGGESTED)
            mark = {CONFIRMED: ' <span class="status-confirmed">(you confirmed this)</span>',
                    REJECTED: ' <span class="status-rejected">(you rejected this)</span>'}.get(status, "")
            name = str(c.get("cause_name") or c.get("cause_id"))
            name = name[:1].upper() + name[1:]
            group = f" — {esc(c['group'])}" if c.get("group") else ""
            benign = " Usually harmless." if c.get("benign") else ""
            item = [f"<li><strong>{esc(name)}</strong> may fit{group} (score {fmt_num(_float(c.get('score')), 2)}).{benign}{mark}"]
            if c.get("reasons_for"):
                item.append("<br>Linked in your data with:<ul>"
                            + "".join(f"<li>{esc(r)}</li>" for r in c["reasons_for"]) + "</ul>")
            if c.get("reasons_against"):
                item.append("Speaks against it:<ul>"
                            + "".join(f"<li>{esc(r)}</li>" for r in c["reasons_against"]) + "</ul>")
            if c.get("notes"):
                item.append("<ul class=muted>" + "".join(f"<li>{esc(n)}</li>" for n in c["notes"]) + "</ul>")
            if c.get("tests"):
                item.append("How a doctor may check it: " + esc("; ".join(str(t) for t in c["tests"])) + ".")
            if c.get("advice"):
                item.append(" " + esc(c["advice"]))
            item.append("</li>")
            parts.append("".join(item))
        parts.append("</ol>")
    parts.append("</section>")
    return "".join(parts)


def _float(v: Any) -> float | None:
    try:
        return float(v)
    except (TypeError, ValueError):
        return None


def _footer_html(d: ReportData, generated_unix_s: float) -> str:
    detectors = ", ".join(d.detectors) or "none seen"
    return (f"<footer><p>Generated {esc(fmt_time(generated_unix_s))} by twitchwatch {esc(__version__)} "
            f"from the local database file {esc(d.db_name)}. Detector version(s) seen: {esc(detectors)}. "
            "Everything in this file was computed on your computer; it loads nothing from the network.</p>"
            f"<p>{esc(DISCLAIMER)}</p></footer>")


# ------------------------------------------------------------------------ build
def render_html(store: Any, since_unix_s: float, now_unix_s: float) -> str:
    """The report's HTML text (see :func:`build_report`)."""
    d = gather(store, since_unix_s, now_unix_s)
    head = ("<!DOCTYPE html><html lang=en><head><meta charset=utf-8>"
            "<meta http-equiv=Content-Security-Policy content=\"default-src 'none'; img-src data:; "
            "style-src 'unsafe-inline'\">"
            "<meta name=viewport content=\"width=device-width, initial-scale=1\">"
            f"<title>twitchwatch report {esc(fmt_time(d.since_unix_s))} to {esc(fmt_time(d.now_unix_s))}</title>"
            f"<style>{_CSS}</style></head><body>"
            "<h1>Twitch report</h1>"
            f'<p class="disclaimer" id="disclaimer">{esc(DISCLAIMER)}</p>')
    # red flags come from what was logged as much as from recordings: always checked
    causes, flags, cause_note = candidate_causes(d, store)
    body = [head, _red_flags_html(flags)]
    if d.is_empty:
        body.append('<section id="summary"><h2>Summary for your clinician</h2>'
                    f"<p>No data yet: no recording between {esc(fmt_time(d.since_unix_s))} and "
                    f"{esc(fmt_time(d.now_unix_s))}. Record a session (<code>twitchwatch stream</code>, or try <code>twitchwatch demo</code>) "
                    "or replay a file, then build the report again.</p>" + _logged_html(d) + "</section>")
    else:
        stats_rows, stats_note = exposure_stats(d, store)
        body += [_summary_html(d), _plots_html(d, stats_rows, stats_note), _causes_html(causes, cause_note)]
    body.append(_footer_html(d, time.time()))
    body.append("</body></html>\n")
    return "".join(body)


def build_report(store: Any, since_unix_s: float, out_path: str | os.PathLike,
                 *, now_unix_s: float | None = None) -> pathlib.Path:
    """Write the report for ``[since_unix_s, now]`` from ``store`` to ``out_path`` (one
    self-contained HTML file: plots inline as base64 PNG, no network); return its path.

    ``now_unix_s`` defaults to the current time. Missing parent folders are created;
    the file is written to a temporary name beside it and renamed, so a failure never
    leaves half a report.
    """
    now = time.time() if now_unix_s is None else float(now_unix_s)
    text = render_html(store, since_unix_s, now)
    out = pathlib.Path(out_path)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".part")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, out)
    return out
