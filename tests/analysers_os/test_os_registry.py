"""The analyser registry: explicit, unique names, Protocol-conforming instances."""

import pytest

from imagewatch.analysers.base import Analyser
from imagewatch.analysers.dpkg import DpkgAnalyser
from imagewatch.analysers.registry import RegistryError, check_unique, default_analysers


def test_default_analysers_are_unique_and_conform():
    analysers = default_analysers()
    names = [a.name for a in analysers]
    assert {"dpkg", "apk", "rpm"} <= set(names)
    assert len(names) == len(set(names))
    assert all(isinstance(a, Analyser) for a in analysers)


def test_duplicate_name_raises():
    with pytest.raises(RegistryError, match="duplicate analyser name 'dpkg'"):
        check_unique([DpkgAnalyser(), DpkgAnalyser()])
