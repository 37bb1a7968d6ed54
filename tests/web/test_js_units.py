"""The web page's pure modules (history, API client, formatting, strokes...), unit-tested in Node.

The tests themselves are ``tests/web/js/*.test.mjs``, for Node's built-in runner; this runs them
as part of ``python -m pytest`` and fails with Node's report when any of them fails.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

JS_TESTS = Path(__file__).parent / "js"


def test_javascript_unit_tests_pass() -> None:
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed, so the web page's JavaScript unit tests (tests/web/js) "
                    "cannot run: install Node.js 18 or later (apt-get install nodejs)")
    files = sorted(str(p) for p in JS_TESTS.glob("*.test.mjs"))
    assert files, f"no *.test.mjs files in {JS_TESTS}"
    # the files are named one by one: how `node --test DIR` finds tests differs between Node versions
    proc = subprocess.run([node, "--test", *files], cwd=JS_TESTS, capture_output=True, text=True, timeout=300,
                          check=False)
    if proc.returncode != 0:
        pytest.fail(f"node --test failed (exit {proc.returncode}):\n{proc.stdout}\n{proc.stderr}", pytrace=False)
