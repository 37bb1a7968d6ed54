"""The compiled kernels (``_kernels.c``), or None where they did not build (see ``setup.py``).

One switch for every caller: each looks ``kernels`` up here when it runs, so setting it to None
(as the tests do) puts the whole engine on the NumPy reference code.
"""

try:
    from inkdigit.engine import _kernels as kernels
except ImportError:  # pragma: no cover - built without a C compiler
    kernels = None  # type: ignore[assignment]
