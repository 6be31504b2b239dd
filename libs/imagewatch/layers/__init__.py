"""Layer reading and composition: stream a layer once, analyse it, fold layers into an image.

Public API: ``walk_layer`` (one pass, metadata + wanted files + on_entry
callback), ``analyse_layer`` (walk + analysers + OS detection), ``compose``
(fold analyses bottom to top), ``LayerLimits``, ``LayerRefused``, ``LayerError``.
"""

from __future__ import annotations

from .analysis import AnalyserResult, FileOwner, LayerAnalysis, analyse_layer
from .compose import Inventory, compose
from .entry import LayerEntry, OnEntry, ReadContent
from .errors import LayerError, LayerRefused
from .limits import LayerLimits
from .paths import link_target, normalise, resolve
from .walk import LayerWalk, walk_layer

__all__ = [
    "AnalyserResult", "FileOwner", "Inventory", "LayerAnalysis", "LayerEntry", "LayerError",
    "LayerLimits", "LayerRefused", "LayerWalk", "OnEntry", "ReadContent", "analyse_layer",
    "compose", "link_target", "normalise", "resolve", "walk_layer",
]
