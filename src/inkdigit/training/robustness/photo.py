"""``photo/…``: a digit written on paper and photographed with a phone.

What a phone photo adds to a digit, each of which has broken real readers: the digit is small
(10–40 % of the frame's height) and anywhere in a 640×480 frame; the paper is grey-beige, lit
unevenly (a gradient and a vignette that darkens the corners); the lens blurs (σ 0.5–1.3 px); the
sensor adds noise; the ink is black or blue; the phone saves a JPEG (quality 60–90). The variants
add, one at a time, what else a photo of a form or a desk brings: a shadow edge across the frame, a
pencil's faint grey line, a tilted page (±10°), a printed box around the digit, ruled lines.

The digit's ink is its test image enlarged (bicubic): a soft pen line, as a photo shows it.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from inkdigit.training.robustness.common import Render, encode_jpeg, upscale

WIDTH, HEIGHT = 640, 480
_BLACK_INKS = ((0.08, 0.08, 0.10), (0.12, 0.11, 0.10))
_BLUE_INKS = ((0.10, 0.16, 0.50), (0.14, 0.22, 0.62))


@dataclass(frozen=True)
class Extras:
    """The optional parts of a photo, one per variant."""

    shadow: bool = False
    pencil: bool = False
    rotate: bool = False
    box: bool = False
    ruled: bool = False


def _paper(rng: np.random.Generator) -> np.ndarray:
    """(H, W, 3) grey-beige paper with a lighting gradient and a vignette, in [0, 1]."""
    base = rng.uniform(0.72, 0.93)
    tint = np.array([1.0, rng.uniform(0.95, 0.99), rng.uniform(0.86, 0.95)], dtype=np.float32)
    yy, xx = np.mgrid[0:HEIGHT, 0:WIDTH].astype(np.float32)
    u, v = (xx - WIDTH / 2) / (WIDTH / 2), (yy - HEIGHT / 2) / (HEIGHT / 2)
    angle = rng.uniform(0, 2 * np.pi)
    gradient = 1.0 + rng.uniform(0.06, 0.22) * (np.cos(angle) * u + np.sin(angle) * v) / 2
    vignette = 1.0 - rng.uniform(0.10, 0.35) * (u * u + v * v) / 2
    light = (base * gradient * vignette)[..., None]
    return np.clip(light * tint, 0.0, 1.0)


def _shadow(rng: np.random.Generator) -> np.ndarray:
    """(H, W) light factor: a soft-edged shadow covering one side of a line across the frame."""
    yy, xx = np.mgrid[0:HEIGHT, 0:WIDTH].astype(np.float32)
    angle = rng.uniform(0, 2 * np.pi)
    cx, cy = rng.uniform(0.2, 0.8) * WIDTH, rng.uniform(0.2, 0.8) * HEIGHT
    signed = (xx - cx) * np.cos(angle) + (yy - cy) * np.sin(angle)
    softness = rng.uniform(4, 25)
    inside = 1.0 / (1.0 + np.exp(-signed / softness))
    return 1.0 - rng.uniform(0.3, 0.55) * inside


def _placed(digit: np.ndarray, rng: np.random.Generator, extras: Extras) -> tuple[np.ndarray, int, int]:
    """The digit's ink strength, sized and (maybe) rotated, and where its top-left corner goes."""
    height = int(rng.uniform(0.10, 0.40) * HEIGHT)
    ink = upscale(digit, max(8, height))
    if extras.rotate:
        h, w = ink.shape
        side = int(np.ceil(np.hypot(h, w))) + 2
        padded = np.zeros((side, side), dtype=np.float32)
        padded[(side - h) // 2:(side - h) // 2 + h, (side - w) // 2:(side - w) // 2 + w] = ink
        turn = cv2.getRotationMatrix2D((side / 2, side / 2), rng.uniform(-10, 10), 1.0)
        ink = cv2.warpAffine(padded, turn, (side, side), flags=cv2.INTER_LINEAR)
    margin = int(0.06 * HEIGHT) if extras.box else 4
    h, w = ink.shape
    top = int(rng.integers(margin, max(margin + 1, HEIGHT - h - margin)))
    left = int(rng.integers(margin, max(margin + 1, WIDTH - w - margin)))
    return ink, top, left


def _form_lines(rng: np.random.Generator, box: tuple[int, int, int, int] | None) -> np.ndarray:
    """(H, W) printed-line coverage: a box around the digit, or ruled lines across the page."""
    lines = np.zeros((HEIGHT, WIDTH), dtype=np.float32)
    if box is not None:
        top, left, h, w = box
        pad = int(rng.uniform(0.12, 0.4) * max(h, w))
        thickness = int(rng.integers(1, 3))
        cv2.rectangle(lines, (left - pad, top - pad), (left + w + pad, top + h + pad), 1.0, thickness, cv2.LINE_AA)
        return lines
    spacing = rng.uniform(22, 40)
    offset = rng.uniform(0, spacing)
    for y in np.arange(offset, HEIGHT, spacing):
        cv2.line(lines, (0, int(y)), (WIDTH - 1, int(y)), 0.55, 1, cv2.LINE_AA)
    return lines


def render_photo(digit: np.ndarray, rng: np.random.Generator, extras: Extras = Extras()) -> bytes:
    """One photo of ``digit`` on paper (JPEG bytes)."""
    paper = _paper(rng)
    ink, top, left = _placed(digit, rng, extras)
    h, w = ink.shape
    coverage = np.zeros((HEIGHT, WIDTH), dtype=np.float32)
    coverage[top:top + h, left:left + w] = ink
    if extras.pencil:
        colour = np.full(3, rng.uniform(0.30, 0.50), dtype=np.float32)
        texture = rng.uniform(0.55, 1.0, size=coverage.shape).astype(np.float32)
        opacity = coverage * rng.uniform(0.55, 0.8) * texture
    else:
        inks = _BLUE_INKS if rng.random() < 0.4 else _BLACK_INKS
        colour = np.array(inks[int(rng.integers(len(inks)))], dtype=np.float32)
        opacity = coverage * rng.uniform(0.85, 1.0)
    image = paper * (1.0 - opacity[..., None]) + colour * opacity[..., None]
    if extras.box or extras.ruled:
        printed = _form_lines(rng, (top, left, h, w) if extras.box else None)
        line_colour = np.array([0.25, 0.25, 0.28] if extras.box else [0.45, 0.6, 0.85], dtype=np.float32)
        image = image * (1.0 - printed[..., None]) + line_colour * printed[..., None] * paper
    if extras.shadow:
        image *= _shadow(rng)[..., None]
    image = cv2.GaussianBlur(image, (0, 0), rng.uniform(0.5, 1.3))
    image += rng.normal(0.0, rng.uniform(0.008, 0.035), size=image.shape).astype(np.float32)
    return encode_jpeg(np.clip(image, 0.0, 1.0), int(rng.integers(60, 91)))


def _variant(extras: Extras) -> Render:
    def render(digit: np.ndarray, rng: np.random.Generator) -> bytes:
        return render_photo(digit, rng, extras)

    return render


RENDERINGS: dict[str, Render] = {
    "paper": _variant(Extras()),
    "shadow": _variant(Extras(shadow=True)),
    "pencil": _variant(Extras(pencil=True)),
    "rotated": _variant(Extras(rotate=True)),
    "form-box": _variant(Extras(box=True)),
    "ruled": _variant(Extras(ruled=True)),
}
