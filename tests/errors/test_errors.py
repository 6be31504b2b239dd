"""Every exception class imagewatch defines descends from ``ImagewatchError``."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import imagewatch
from imagewatch.errors import ImagewatchError


def _modules():
    for info in pkgutil.walk_packages(imagewatch.__path__, "imagewatch."):
        if not info.name.endswith(".__main__"):
            yield importlib.import_module(info.name)


def test_every_exception_has_the_one_base() -> None:
    strays = sorted(
        f"{obj.__module__}.{name}"
        for module in _modules()
        for name, obj in vars(module).items()
        if inspect.isclass(obj) and issubclass(obj, BaseException)
        and obj.__module__ == module.__name__ and not issubclass(obj, ImagewatchError)
    )
    assert strays == []


def test_the_tree_in_the_docstring_names_every_base_family() -> None:
    doc = importlib.import_module("imagewatch.errors").__doc__
    for module in _modules():
        for name, obj in vars(module).items():
            if (inspect.isclass(obj) and issubclass(obj, ImagewatchError) and obj.__module__ == module.__name__
                    and ImagewatchError in obj.__bases__ and not name.startswith("_")):
                assert name in doc, f"{module.__name__}.{name} is missing from the tree in imagewatch/errors.py"
