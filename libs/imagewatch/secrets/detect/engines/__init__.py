"""Multi-pattern prefilters: one pass over a file yields (rule, offset) candidates.

Each engine implements ``Prefilter``; ``ENGINES`` lists them by name, best
first, and ``build_prefilter`` picks the first one whose library imports.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from imagewatch.secrets.detect.rule import Rule
from imagewatch.secrets.detect.engines.base import Prefilter, PrefilterError


def _hyperscan(rules: Sequence[Rule]) -> Prefilter:
    from imagewatch.secrets.detect.engines.hyperscan_engine import HyperscanPrefilter

    return HyperscanPrefilter(rules)


def _ahocorasick(rules: Sequence[Rule]) -> Prefilter:
    from imagewatch.secrets.detect.engines.ahocorasick_engine import AhoCorasickPrefilter

    return AhoCorasickPrefilter(rules)


def _regex(rules: Sequence[Rule]) -> Prefilter:
    from imagewatch.secrets.detect.engines.regex_engine import RegexPrefilter

    return RegexPrefilter(rules)


ENGINES: dict[str, Callable[[Sequence[Rule]], Prefilter]] = {
    "hyperscan": _hyperscan,
    "ahocorasick": _ahocorasick,
    "regex": _regex,
}


def build_prefilter(rules: Sequence[Rule], engine: str | None = None) -> Prefilter:
    """Build the named engine, or the best importable one when ``engine`` is None."""
    if engine is not None:
        if engine not in ENGINES:
            raise PrefilterError(f"secrets: unknown engine {engine!r}")
        return ENGINES[engine](rules)
    for factory in ENGINES.values():
        try:
            return factory(rules)
        except ImportError:
            continue
    raise PrefilterError("secrets: no prefilter engine available")  # pragma: no cover


__all__ = ["ENGINES", "Prefilter", "PrefilterError", "build_prefilter"]
