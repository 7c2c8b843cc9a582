"""The live dashboard: a web page served by the host while it records.

:class:`LiveHub` takes the pipeline's callbacks (blocks, events, status) in the
pipeline's thread; :class:`Dashboard` serves the page, its JSON API and a WebSocket
from a background thread (Starlette under uvicorn). See docs/dashboard.md.
"""

from twitchwatch.dashboard.hub import LiveHub
from twitchwatch.dashboard.server import DEFAULT_PORT, Dashboard, DashboardApp

__all__ = ["DEFAULT_PORT", "Dashboard", "DashboardApp", "LiveHub"]
