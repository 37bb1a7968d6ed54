"""Gunicorn's Uvicorn worker with the settings ``inkdigit serve`` gives Uvicorn, for bench_http.py:

    gunicorn 'inkdigit.service.app:create_app()' --worker-class gunicorn_worker.Worker  (benchmarks/ on sys.path)
"""

from __future__ import annotations

from typing import Any

from uvicorn_worker import UvicornWorker


class Worker(UvicornWorker):
    CONFIG_KWARGS: dict[str, Any] = {"loop": "uvloop", "http": "httptools", "access_log": False,
                                     "server_header": False}
