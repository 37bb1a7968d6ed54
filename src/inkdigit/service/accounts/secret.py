"""The key that signs confirmation and reset tokens: ``INKDIGIT_SECRET_KEY``, else one made once.

Made once and kept in ``home/secret.key`` (mode 0600), so that links mailed before a restart still
work and every worker process signs with the same key. Created with ``O_EXCL``: when several
workers start at once, one writes it and the others read that one.
"""

from __future__ import annotations

import os
import secrets
import time
from pathlib import Path


def load_secret(configured: str | None, home: Path) -> str:
    if configured:
        return configured
    path = home / "secret.key"
    home.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        for _ in range(50):  # another process may be writing it this very moment
            key = path.read_text().strip()
            if len(key) >= 32:
                return key
            time.sleep(0.02)
        raise RuntimeError(f"{path} holds no usable key: delete it, or set INKDIGIT_SECRET_KEY") from None
    key = secrets.token_urlsafe(48)
    with os.fdopen(fd, "w") as handle:
        handle.write(key + "\n")
    return key
