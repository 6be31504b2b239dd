"""Layer reading: stream a layer's tar once, bounded, with paths normalised.

Public API: ``walk_layer`` (one pass, metadata + wanted files + on_entry
callback), ``LayerLimits``, ``LayerRefused``, ``LayerError``. This package
imports nothing else of imagewatch: analysers and composition live in
``imagewatch.inventory`` (``analysis``, ``compose``).
"""

from __future__ import annotations

from imagewatch.layers.entry import LayerEntry, OnEntry, ReadContent
from imagewatch.layers.errors import LayerError, LayerRefused
from imagewatch.layers.limits import LayerLimits
from imagewatch.layers.paths import link_target, normalise, resolve
from imagewatch.layers.walk import LayerWalk, walk_layer

__all__ = [
    "LayerEntry", "LayerError", "LayerLimits", "LayerRefused", "LayerWalk", "OnEntry", "ReadContent",
    "link_target", "normalise", "resolve", "walk_layer",
]
