"""The chaos stack for the whole module, and the results table at the end of the run."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pytest

from chaos.pipeline import RESULTS, Pipeline, table
from harness.images import tools_missing


@pytest.fixture(scope="module")
async def pipeline():
    if tools_missing():
        pytest.skip(f"missing tools: {tools_missing()}")
    root = Path(tempfile.mkdtemp(prefix="iw-chaos-"))
    p = Pipeline(root)
    try:
        await p.start()
        yield p
    finally:
        await p.stop()
        shutil.rmtree(root, ignore_errors=True)


def pytest_terminal_summary(terminalreporter):
    if RESULTS:
        terminalreporter.write_sep("=", "chaos suite")
        terminalreporter.write_line(table())
