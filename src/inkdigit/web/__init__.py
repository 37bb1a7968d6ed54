"""The web app: static HTML, CSS and JavaScript served by the API service (no build step)."""

from pathlib import Path

STATIC_DIR = Path(__file__).parent / "static"
