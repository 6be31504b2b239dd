"""Fixtures for the report tests: a real-shaped scan result (Debian 12 image with
Python and Go packages, real advisory ids, two secrets, two misconfigurations)."""

from __future__ import annotations

from pathlib import Path

import msgspec
import pytest

from imagewatch.report import ScanResult

DATA = Path(__file__).resolve().parent / "data"


@pytest.fixture
def scan_result() -> ScanResult:
    return msgspec.json.decode((DATA / "scan_result.json").read_bytes(), type=ScanResult)


@pytest.fixture
def data_dir() -> Path:
    return DATA
