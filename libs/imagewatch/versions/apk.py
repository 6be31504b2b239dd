"""Alpine (apk) package versions.

Hand-written: ``univers`` rejects the post-release suffixes ``_cvs``, ``_svn``,
``_git`` and ``_hg``. The grammar and order follow apk-tools
(``apk version -t``): ``number(.number)*[letter](_suffix[number])*[~hash][-rN]``;
pre-release suffixes ``_alpha < _beta < _pre < _rc`` sort before the bare
version, post-release ones ``_cvs < _svn < _git < _hg < _p`` after it; then the
``-rN`` package release. Number components after the first that start with 0
compare as decimal fractions (``1.05 < 1.5``), as in apk-tools and Gentoo.
"""

from __future__ import annotations

import re

from imagewatch.versions.base import InvalidVersion, KeyedScheme

_VERSION = re.compile(
    r"^(\d+(?:\.\d+)*)([a-z]?)((?:_(?:alpha|beta|pre|rc|cvs|svn|git|hg|p)\d*)*)"
    r"(?:~[0-9a-f]+)?(?:-r(\d+))?$"
)
_SUFFIX = re.compile(r"_(alpha|beta|pre|rc|cvs|svn|git|hg|p)(\d*)")
_SUFFIX_RANK = {"alpha": 0, "beta": 1, "pre": 2, "rc": 3, "cvs": 5, "svn": 6, "git": 7, "hg": 8, "p": 9}
_NO_SUFFIX = ((4, 0),)


def _component(i: int, digits: str) -> tuple:
    if i > 0 and digits.startswith("0"):
        return (0, 0, digits.rstrip("0"))
    return (1, int(digits), "")


class Apk(KeyedScheme):
    """apk-tools version order: ``1.0_rc1 < 1.0 < 1.0_p1 < 1.0a``, ``-r1 < -r10``."""

    name = "apk"

    def parse(self, version: str) -> tuple:
        m = _VERSION.match(version)
        if m is None:
            raise InvalidVersion(self.name, version)
        nums, letter, suffixes, release = m.groups()
        numbers = tuple(_component(i, d) for i, d in enumerate(nums.split(".")))
        suffix_key = tuple((_SUFFIX_RANK[s], int(n or 0)) for s, n in _SUFFIX.findall(suffixes))
        return (numbers, ord(letter) if letter else 0, suffix_key + _NO_SUFFIX, int(release or 0))
