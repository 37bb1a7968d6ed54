"""Read many images at once: ``inkdigit batch``.

:mod:`sources` says which images the arguments stand for (folders, globs, archives, manifests),
lazily; :mod:`rows` reads a chunk of them into rows of one fixed schema; :mod:`sinks` writes those
rows (JSON Lines, CSV or Parquet) and reads back what an earlier run wrote, to resume it;
:mod:`runner` cuts the input into chunks, reads them in this process or a process pool and writes
the rows in input order; :mod:`cluster` does the same on a Dask distributed cluster, the model
shipped to each worker once (:mod:`model`).
"""
