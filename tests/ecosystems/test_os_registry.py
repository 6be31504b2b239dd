"""The analyser registry: explicit, unique names, Protocol-conforming instances."""

import pytest

from imagewatch.ecosystems.base import Analyser
from imagewatch.ecosystems.debian.analyser import DpkgAnalyser
from imagewatch.ecosystems.catalog import CatalogError, check_unique, default_analysers


def test_default_analysers_are_unique_and_conform():
    analysers = default_analysers()
    names = [a.name for a in analysers]
    assert {"dpkg", "apk", "rpm"} <= set(names)
    assert len(names) == len(set(names))
    assert all(isinstance(a, Analyser) for a in analysers)


def test_duplicate_name_raises():
    with pytest.raises(CatalogError, match="duplicate analyser name 'dpkg'"):
        check_unique([DpkgAnalyser(), DpkgAnalyser()])
