"""The web app: static HTML, CSS and JavaScript served by the API service (no build step).

The page's scripts are ES modules in ``static/js/*.mjs``. Browsers run a module only when it is
served with a JavaScript MIME type, and Starlette's StaticFiles takes the type from Python's
``mimetypes``, which the host can override (``/etc/mime.types``, the Windows registry); so the types
of ``.mjs``, ``.js`` (the vendored bundles), ``.css``, ``.wasm`` (ONNX Runtime Web) and
``.webmanifest`` are pinned here, before the app serves anything.
"""

import mimetypes
from pathlib import Path

STATIC_DIR = Path(__file__).parent / "static"

mimetypes.add_type("text/javascript", ".mjs")
mimetypes.add_type("text/javascript", ".js")
mimetypes.add_type("text/css", ".css")
mimetypes.add_type("application/wasm", ".wasm")  # compiled while it downloads only with this type
mimetypes.add_type("application/manifest+json", ".webmanifest")
