"""Report plots as PNG bytes (matplotlib, Agg canvas, no pyplot state): reusable by the
dashboard. Each function takes plain numbers and returns the bytes of one PNG.

No function draws a value that is not there: days without recording are gaps, not
zeros; an exposure without enough data gets its text instead of a bar.
"""

from __future__ import annotations

import datetime as _dt
import io
from typing import Any, Mapping, Sequence

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

DPI = 100
_PALETTE = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf",
            "#7f7f7f", "#bcbd22")


def site_colours(sites: Sequence[str]) -> dict[str, str]:
    """One colour per site, stable for a given ordered list of sites."""
    return {site: _PALETTE[i % len(_PALETTE)] for i, site in enumerate(sites)}


def figure_png(fig: Figure) -> bytes:
    """Render a matplotlib Figure to PNG bytes with the Agg canvas."""
    FigureCanvasAgg(fig)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI, bbox_inches="tight")
    return buf.getvalue()


def _empty(fig: Figure, text: str) -> bytes:
    ax = fig.add_subplot()
    ax.text(0.5, 0.5, text, ha="center", va="center", transform=ax.transAxes)
    ax.set_axis_off()
    return figure_png(fig)


def rate_by_day_png(days: Sequence[_dt.date], rates: Mapping[str, Sequence[float | None]],
                    *, width_in: float = 8.0) -> bytes:
    """Twitch rate (per recorded hour) per day, one line per site; ``None`` = no recording
    that day (a gap in the line, not a zero)."""
    fig = Figure(figsize=(width_in, 3.2))
    if not days or not rates:
        return _empty(fig, "no recorded time in this period")
    rate_by_day_axes(fig, days, rates)
    return figure_png(fig)


_MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*")


def rate_by_day_axes(fig: Figure, days: Sequence[_dt.date], rates: Mapping[str, Sequence[float | None]]) -> Any:
    """Draw :func:`rate_by_day_png`'s plot on ``fig``; return its axes.

    Sized to the data: x from half a day before the first day to half a day after the
    last (one day is one day wide, not years), y from 0 to 15 % above the highest
    rate, so no point is clipped. Sites sharing a day are set side by side (a small
    offset within the day, each with its own marker), so none hides another."""
    ax = fig.add_subplot()
    colours = site_colours(list(rates))
    xs0 = [_dt.datetime.combine(day, _dt.time(12)) for day in days]
    n = len(rates)
    top = 0.0
    for i, (site, values) in enumerate(rates.items()):
        shift = _dt.timedelta(hours=(i - (n - 1) / 2) * min(3.0, 16.0 / max(n, 1)))
        ys = [float("nan") if v is None else float(v) for v in values]
        top = max([top] + [y for y in ys if y == y])
        xs: Any = [x + shift for x in xs0]  # datetimes: matplotlib converts them
        ax.plot(xs, ys, marker=_MARKERS[i % len(_MARKERS)], color=colours[site], label=site)
    ax.set_xlim(xs0[0] - _dt.timedelta(hours=12), xs0[-1] + _dt.timedelta(hours=12))  # type: ignore[arg-type]
    ax.set_ylim(0, top * 1.15 if top > 0 else 1.0)
    ax.set_ylabel("twitches per recorded hour")
    ax.grid(alpha=0.3)
    fig.autofmt_xdate()
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.25), ncol=min(4, n), frameon=False)
    return ax


def unit_raster_png(times: Sequence[_dt.datetime], rows: Sequence[int], sites: Sequence[str],
                    row_labels: Sequence[str], *, site_order: Sequence[str] | None = None,
                    width_in: float = 8.0, time_label: str = "local time") -> bytes:
    """One tick per twitch: x = time (naive local datetimes; ``time_label`` names their
    zone), y = row (one per motor unit), colour per site."""
    height = min(9.0, max(2.5, 0.18 * len(row_labels) + 1.5))
    fig = Figure(figsize=(width_in, height))
    if not times:
        return _empty(fig, "no twitches with a motor-unit id in this period")
    ax = fig.add_subplot()
    order = list(site_order) if site_order else sorted(set(sites))
    colours = site_colours(order)
    for site in order:
        xs = [t for t, s in zip(times, sites) if s == site]
        ys = [r for r, s in zip(rows, sites) if s == site]
        if xs:
            ax.scatter(xs, ys, marker="|", s=60, color=colours[site], label=site)  # type: ignore[arg-type]
    step = max(1, len(row_labels) // 40)
    ax.set_yticks(list(range(0, len(row_labels), step)))
    ax.set_yticklabels([row_labels[i] for i in range(0, len(row_labels), step)], fontsize=7)
    ax.set_ylim(-0.5, len(row_labels) - 0.5)
    ax.invert_yaxis()
    ax.set_ylabel("motor unit (session / unit id)")
    ax.set_xlabel(time_label)
    ax.grid(axis="x", alpha=0.3)
    fig.autofmt_xdate()
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False, title="body site")
    return figure_png(fig)


def exposure_ratio_png(rows: Sequence[Mapping[str, Any]], *, width_in: float = 8.0) -> bytes:
    """Rate ratio (after exposure / baseline) with its confidence interval, one row per
    exposure kind, on a log axis with a line at 1 (no difference). Rows without a ratio
    (not enough data) are listed with their message instead of a point.

    Each row: ``kind``, ``ratio`` (float or None), ``ci_low``, ``ci_high``, ``message``.
    """
    fig = Figure(figsize=(width_in, max(2.2, 0.5 * len(rows) + 1.2)))
    if not rows:
        return _empty(fig, "no exposures logged in this period")
    ax = fig.add_subplot()
    labels = []
    for i, row in enumerate(rows):
        labels.append(str(row["kind"]))
        ratio = row.get("ratio")
        if ratio is None or not ratio > 0:
            text = str(row.get("message") or "not enough data").split(":")[0]
            ax.text(0.01, i, text, va="center", fontsize=8, color="#555555", transform=ax.get_yaxis_transform(),
                    bbox=dict(facecolor="white", edgecolor="none", alpha=0.8))
            continue
        lo, hi = row.get("ci_low"), row.get("ci_high")
        if lo is not None and hi is not None and lo > 0 and hi > 0:
            ax.errorbar([ratio], [i], xerr=[[ratio - lo], [hi - ratio]], fmt="o", color="#1f77b4", capsize=4)
        else:
            ax.plot([ratio], [i], "o", color="#1f77b4")
    ax.axvline(1.0, color="#333333", lw=1, ls="--")
    ax.set_xscale("log")
    xs = [v for r in rows for v in (r.get("ci_low"), r.get("ratio"), r.get("ci_high")) if v and v > 0]
    lo, hi = min(xs + [0.5]), max(xs + [2.0])
    ax.set_xlim(lo / 1.5, hi * 1.5)
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    ax.xaxis.set_major_locator(LogLocator(base=2.0))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _pos: f"{v:g}×"))
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.set_yticks(list(range(len(labels))))
    ax.set_yticklabels(labels)
    ax.set_ylim(-0.7, len(labels) - 0.3)
    ax.invert_yaxis()
    ax.set_xlabel("twitch rate after the exposure ÷ rate at other recorded times (1 = no difference)")
    ax.grid(axis="x", alpha=0.3, which="both")
    return figure_png(fig)


def amplitude_by_unit_png(values: Mapping[str, Sequence[float]], sites: Mapping[str, str],
                          *, site_order: Sequence[str] | None = None, width_in: float = 8.0) -> bytes:
    """Box plot of twitch amplitude (µV) per motor unit, coloured by site."""
    fig = Figure(figsize=(width_in, 3.4))
    labels = [k for k, v in values.items() if len(v)]
    if not labels:
        return _empty(fig, "no twitches with a motor-unit id in this period")
    ax = fig.add_subplot()
    order = list(site_order) if site_order else sorted(set(sites.values()))
    colours = site_colours(order)
    box = ax.boxplot([list(values[k]) for k in labels], patch_artist=True, widths=0.6,
                     medianprops=dict(color="black"))
    for patch, label in zip(box["boxes"], labels):
        patch.set_facecolor(colours.get(sites.get(label, ""), "#7f7f7f"))
        patch.set_alpha(0.6)
    from matplotlib.patches import Patch

    present = [site for site in order if site in set(sites.get(k) for k in labels)]
    ax.legend(handles=[Patch(facecolor=colours[site], alpha=0.6, label=site) for site in present],
              loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False, title="body site")
    ax.set_xticks(list(range(1, len(labels) + 1)))
    ax.set_xticklabels(labels, rotation=60, ha="right", fontsize=7)
    ax.set_ylabel("amplitude, µV peak-to-peak")
    ax.grid(axis="y", alpha=0.3)
    return figure_png(fig)
