"""Every default that more than one layer relies on, defined once.

The engine, the service's ``Settings``, the CLI and the HTTP schemas all import these, so a
changed limit or default model is changed everywhere at once.
"""

from __future__ import annotations

#: the recognizer used when a caller names none (shipped inside the package)
DEFAULT_MODEL = "cnn-v5"

#: largest encoded image accepted (bytes) and largest decoded image (pixels)
MAX_UPLOAD_BYTES = 10 * 1024 * 1024
MAX_PIXELS = 40_000_000

#: how many candidate digits an answer lists by default, and at most
TOP_K_DEFAULT = 3
TOP_K_MAX = 10
