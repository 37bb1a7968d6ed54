"""The optional dependencies of batch reading, imported only when an option needs them.

Reading to JSON Lines or CSV on this machine needs neither. Parquet (an output, a manifest) needs
pyarrow; ``--scheduler`` needs Dask's ``distributed``. Both come with the ``batch`` extra, and a
missing one is a :class:`MissingExtraError` naming it, which the command prints as one line.
"""

from __future__ import annotations

from types import ModuleType

BATCH_INSTALL = "pip install 'inkdigit[batch]'"


class MissingExtraError(ImportError):
    """An option needs a package of the ``batch`` extra that is not installed."""


def pyarrow_parquet(what: str) -> ModuleType:
    """``pyarrow.parquet``, or why ``what`` cannot be had without it."""
    try:
        import pyarrow.parquet as pq
    except ImportError as exc:
        raise MissingExtraError(f"{what} needs the 'batch' extra ({exc.name} is missing): {BATCH_INSTALL}") from exc
    return pq


def pyarrow() -> ModuleType:
    """``pyarrow`` itself (types, tables), under the same condition as :func:`pyarrow_parquet`."""
    pyarrow_parquet("Parquet")
    import pyarrow as pa

    return pa


def distributed(what: str = "--scheduler") -> ModuleType:
    """Dask's ``distributed``, or why ``what`` cannot be had without it."""
    try:
        import distributed as dd
    except ImportError as exc:
        raise MissingExtraError(f"{what} needs the 'batch' extra ({exc.name} is missing): {BATCH_INSTALL}") from exc
    return dd
