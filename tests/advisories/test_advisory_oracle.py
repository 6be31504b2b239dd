"""Range evaluation checked against real data.

PyPI records often list the affected versions besides the ranges. For each
such entry, every listed version must evaluate affected by the ranges, and
every other version of the package known from any record's list must not.
Two figures are printed: the raw agreement, and the agreement excluding only
the records in EXCEPTIONS, whose list is demonstrably inconsistent with the
record's own ranges; the test fails when the latter is under 99.5 %.

An exception cannot hide a matcher error: each of its disagreements must be
confirmed by the OSV walk written out here with ``packaging`` alone,
independently of the matcher (``_walk``): the listed version is outside the
record's ranges, or the missing version is inside them. Two further groups
are counted as disagreements, not excluded: versions that are not PEP 440
(ranges cannot order them; the explicit list still matches them, which is
checked), and versions above every listed one (released after the list was
computed, inside an open range). Anything else fails.
"""

from __future__ import annotations

import collections

from packaging.version import InvalidVersion, Version

from imagewatch.advisories import is_affected, load_path, range_affected
from imagewatch.advisories.model import Affected
from imagewatch.versions import scheme_for

from .shared_data import shared

_TF_PRE = ("tensorflow: list omits pre-releases before 2.2 although the range covers them "
           "(137 other tensorflow records list them)")
_BACKPORT = "list omits a later backport release below the listed ones; the range has no fix for it"
EXCEPTIONS: dict[str, str] = {
    **{f"PYSEC-2021-{n}": _TF_PRE for n in [*range(389, 403), *range(404, 412), *range(413, 421), 842, 843]},
    "PYSEC-2024-16": "nautobot: list omits 1.x pre-releases that the range covers",
    "PYSEC-2023-61": "django: list holds 3.2a1..rc1 and 4.2a1..rc1, which PEP 440 orders below introduced 3.2 / 4.2",
    "PYSEC-2023-177": "gevent: list holds 23.9.0 and 23.9.0.post1 although the range says fixed 23.9.0",
    "PYSEC-2021-114": "wagtail: overlapping events in one range (introduced 0 + introduced 2.11) close at 2.11.6",
    "PYSEC-2020-215": f"notebook 5.7.14/5.7.15: {_BACKPORT}",
    "PYSEC-2022-180": f"notebook 5.7.14/5.7.15: {_BACKPORT}",
    "PYSEC-2022-257": f"nvflare 2.0.19: {_BACKPORT}",
    "PYSEC-2022-159": f"scrapy 1.8.3: {_BACKPORT}",
    "PYSEC-2022-43063": "paddlepaddle: list omits 2.0.0rc0/rc1 although the range is open",
    "PYSEC-2020-220": "ansible: open range; list omits 6.7.0, below listed versions",
}
NOT_PEP440 = "version is not PEP 440: ranges cannot order it (the explicit list matches it)"
LATER = "above every listed version: released after the list was computed, inside the open range"


def _pep440(v: str) -> Version | None:
    try:
        return Version(v)
    except InvalidVersion:
        return None


def _walk(entry: Affected, version: Version) -> bool:
    """The OSV evaluation of the entry's ranges with ``packaging`` only (introduced "0" first)."""
    for rng in entry.ranges:
        if rng.type == "GIT":
            continue
        events = []
        for ev in rng.events:
            for kind in ("introduced", "fixed", "last_affected"):
                value = getattr(ev, kind)
                if value == "0" and kind == "introduced":
                    events.append((Version("0.dev0"), 0, kind, None))
                elif value is not None and _pep440(value) is not None:
                    events.append((Version(value), 1, kind, Version(value)))
        affected = False
        for _key, _first, kind, at in sorted(events, key=lambda e: (e[0], e[1])):
            if kind == "introduced" and (at is None or version >= at):
                affected = True
            elif kind == "fixed" and version >= at or kind == "last_affected" and version > at:
                affected = False
        if affected:
            return True
    return False


def _inconsistent(entry: Affected, version: str, listed_now: bool) -> bool:
    """Whether the independent walk agrees with the matcher that the list is wrong about ``version``."""
    return _walk(entry, Version(version)) != listed_now


def test_pypi_versions_lists_agree_with_ranges() -> None:
    advisories = list(load_path(shared("osv/PyPI")))
    scheme = scheme_for("PyPI")
    known: dict[str, set[str]] = collections.defaultdict(set)
    for adv in advisories:
        for entry in adv.affected:
            known[entry.package.name].update(entry.versions)

    checked = disagree = 0
    groups: dict[str, collections.Counter[str]] = collections.defaultdict(collections.Counter)
    unexplained: list[tuple[str, str, str]] = []
    for adv in advisories:
        for entry in adv.affected:
            ranges = [r for r in entry.ranges if r.type != "GIT"]
            if not entry.versions or not ranges:
                continue
            listed = set(entry.versions)
            top = max(filter(None, map(_pep440, listed)), default=None)
            for version in sorted(known[entry.package.name]):
                expected = version in listed
                got = any(range_affected(r, version, scheme)[0] for r in ranges)
                checked += 1
                if got == expected:
                    continue
                disagree += 1
                parsed = _pep440(version)
                if parsed is None:
                    assert is_affected(entry, version, scheme) == expected, (adv.id, version)
                    groups[NOT_PEP440][adv.id] += 1
                elif not expected and top is not None and parsed > top:
                    groups[LATER][adv.id] += 1
                elif adv.id in EXCEPTIONS and _inconsistent(entry, version, expected):
                    groups[EXCEPTIONS[adv.id]][adv.id] += 1
                else:
                    unexplained.append((adv.id, version, "listed" if expected else "not listed"))

    excluded = sum(n for why, c in groups.items() if why in EXCEPTIONS.values() for n in c.values())
    raw = 100.0 * (checked - disagree) / checked
    corrected = 100.0 * (checked - disagree) / (checked - excluded)
    print(f"\nPyPI oracle: {checked} (record, version) pairs checked, {disagree} disagree")
    print(f"  raw agreement: {raw:.2f} %")
    print(f"  agreement without the {excluded} pairs of records whose list contradicts their own ranges: "
          f"{corrected:.2f} % (must be >= 99.5 %)")
    for why, records in sorted(groups.items(), key=lambda kv: -sum(kv[1].values())):
        kind = "excluded" if why in EXCEPTIONS.values() else "counted "
        ids = ", ".join(f"{i} ({n})" for i, n in sorted(records.items()))
        print(f"  {kind} {sum(records.values()):5d} pairs, {len(records):2d} records: {why}\n      {ids}")
    print(f"  unexplained: {len(unexplained)} {unexplained[:20]}")
    stale = sorted(set(EXCEPTIONS) - {i for why, c in groups.items() if why in EXCEPTIONS.values() for i in c})
    assert checked > 100_000
    assert not unexplained
    assert not stale, f"EXCEPTIONS without a disagreement any more: {stale}"
    assert corrected >= 99.5


def _self_consistency(ecosystem: str, folder: str) -> None:
    """Each introduced version is affected and each fixed version is not, per its own range."""
    scheme = scheme_for(ecosystem)
    checked = unparsable = 0
    wrong = []
    for adv in load_path(shared(folder)):
        for entry in adv.affected:
            for rng in entry.ranges:
                fixed = {ev.fixed for ev in rng.events}
                for ev in rng.events:
                    for version, expected in ((ev.introduced, True), (ev.fixed, False)):
                        if version in (None, "0") or (expected and version in fixed):  # empty interval
                            continue
                        try:
                            scheme.key(version)
                        except ValueError:
                            unparsable += 1
                            continue
                        checked += 1
                        if range_affected(rng, version, scheme)[0] != expected:
                            wrong.append((adv.id, version))
    print(f"\n{ecosystem}: {checked} event versions checked, {unparsable} unparsable, {len(wrong)} wrong {wrong[:10]}")
    assert checked > 1000
    assert unparsable == 0
    assert not wrong


def test_go_ranges_are_self_consistent() -> None:
    _self_consistency("Go", "osv/Go")


def test_crates_ranges_are_self_consistent() -> None:
    _self_consistency("crates.io", "osv/crates.io")
