"""Every default that more than one layer relies on, defined once.

The engine, the service's ``Settings``, the CLI and the HTTP schemas all import these, so a
changed limit or default model is changed everywhere at once.
"""

from __future__ import annotations

#: the recognizer used when a caller names none (shipped inside the package)
DEFAULT_MODEL = "cnn-v17"

#: largest encoded image accepted (bytes) and largest decoded image (pixels)
MAX_UPLOAD_BYTES = 10 * 1024 * 1024
MAX_PIXELS = 40_000_000
#: most memory one image's decode may take (bytes, as Pillow stores it: 4 a pixel for RGB and
#: RGBA, 1 for gray): an 8K screenshot (7680×4320 RGB, 127 MiB) passes; a 6000×6000 RGBA PNG
#: (137 MiB) is refused. A JPEG is decoded reduced and rarely comes near it.
MAX_DECODED_BYTES = 128 * 1024 * 1024

#: how many candidate digits an answer lists by default, and at most
TOP_K_DEFAULT = 3
TOP_K_MAX = 10
