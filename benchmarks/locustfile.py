"""A realistic user mix for Locust: open the app, draw (several live predictions), upload a photo.

Headless, bounded, loopback only:
    inkdigit serve --port 8000 &
    locust -f benchmarks/locustfile.py --headless -u 50 -r 10 -t 60s --host http://127.0.0.1:8000
(install with ``pip install -e ".[bench]"``).
"""

from __future__ import annotations

import base64
import io
import random

from locust import HttpUser, between, task
from PIL import Image, ImageDraw


def _stroke_png(progress: float) -> bytes:
    """A '4' partly drawn: live predictions are sent while the strokes are still being made."""
    img = Image.new("RGBA", (280, 280), (0, 0, 0, 0))
    d = ImageDraw.Draw(img)
    points = [(180, 40), (70, 170), (220, 170)]
    d.line(points[: 2 + int(progress >= 0.5)], fill=(0, 0, 0, 255), width=16, joint="curve")
    if progress >= 1:
        d.line([(170, 90), (170, 250)], fill=(0, 0, 0, 255), width=16)
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()


def _photo_jpeg() -> bytes:
    img = Image.new("RGB", (1200, 900), (225, 220, 205))
    ImageDraw.Draw(img).ellipse((450, 200, 750, 700), outline=(40, 40, 60), width=22)
    buf = io.BytesIO()
    img.save(buf, format="JPEG", quality=85)
    return buf.getvalue()


STROKES = [_stroke_png(p) for p in (0.3, 0.6, 1.0)]
PHOTO = _photo_jpeg()


class Visitor(HttpUser):
    wait_time = between(0.2, 1.5)

    def on_start(self) -> None:
        self.client.get("/", name="page load")
        self.client.get("/api/v1/models")

    @task(6)
    def draw(self) -> None:
        for png in STROKES:  # debounced live predictions while drawing, as JSON data URLs
            data_url = "data:image/png;base64," + base64.b64encode(png).decode()
            self.client.post("/api/v1/predict", json={"image": data_url}, name="predict (drawing)")

    @task(1)
    def upload(self) -> None:
        self.client.post("/api/v1/predict?debug=true", files={"file": ("photo.jpg", PHOTO, "image/jpeg")},
                         name="predict (upload)")

    @task(1)
    def batch(self) -> None:
        files = [("files", (f"{i}.png", random.choice(STROKES), "image/png")) for i in range(4)]
        self.client.post("/api/v1/predict/batch", files=files, name="predict batch")
