"""The report: one self-contained HTML file for the person and their clinician.

:func:`build_report` writes it; :mod:`twitchwatch.report.plots` draws its plots as PNG
bytes (reusable by a dashboard); :func:`twitchwatch.report.data.gather` computes its
numbers. Not a diagnosis: see ``docs/report.md``.
"""

from .render import DISCLAIMER, build_report, render_html

__all__ = ["DISCLAIMER", "build_report", "render_html"]
