"""Range evaluation checked against real data.

PyPI records often list the affected versions besides the ranges. For each
such entry, every listed version must evaluate affected by the ranges, and
every other version of the package known from any record's list must not.
Disagreements are either explained by a documented rule or by a record
listed in EXCEPTIONS (all upstream data problems); anything else fails.
"""

from __future__ import annotations

import collections

from packaging.version import InvalidVersion, Version

from imagewatch.advisories import load_path, range_affected
from imagewatch.versions import scheme_for

from .shared_data import shared

_TF_PRE = "tensorflow: pre-releases before 2.2 missing from the list (137 other tensorflow records list them)"
EXCEPTIONS: dict[str, str] = {
    **{f"PYSEC-2021-{n}": _TF_PRE for n in [*range(389, 403), *range(404, 412), *range(413, 421), 842, 843]},
    "PYSEC-2024-16": "nautobot: list omits 1.x pre-releases that fall in the range",
    "PYSEC-2023-61": "django: list holds 3.2a1..rc1 and 4.2a1..rc1, which PEP 440 orders below introduced 3.2 / 4.2",
    "PYSEC-2023-177": "gevent: list holds 23.9.0 and 23.9.0.post1 although the range says fixed 23.9.0",
    "PYSEC-2021-114": "wagtail: overlapping events in one range (introduced 0 + introduced 2.11), invalid per OSV",
    "PYSEC-2020-215": "notebook: 5.7.14/5.7.15 backports released after the list was computed",
    "PYSEC-2022-180": "notebook: 5.7.14/5.7.15 backports released after the list was computed",
    "PYSEC-2022-257": "nvflare: 2.0.19 backport released after the list was computed",
    "PYSEC-2022-159": "scrapy: 1.8.3 backport released after the list was computed",
    "PYSEC-2022-43063": "paddlepaddle: list omits 2.0.0rc0/rc1 although the range is open",
    "PYSEC-2020-220": "ansible: open range; list omits versions released later (incl. backports)",
}


def _pep440(v: str) -> Version | None:
    try:
        return Version(v)
    except InvalidVersion:
        return None


def test_pypi_versions_lists_agree_with_ranges() -> None:
    advisories = list(load_path(shared("osv/PyPI")))
    scheme = scheme_for("PyPI")
    known: dict[str, set[str]] = collections.defaultdict(set)
    for adv in advisories:
        for entry in adv.affected:
            known[entry.package.name].update(entry.versions)

    checked = disagree = 0
    explained: collections.Counter[str] = collections.Counter()
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
                    explained["version is not PEP 440, so only the explicit list can match it"] += 1
                elif not expected and top is not None and parsed > top:
                    explained["released after the list was computed (above every listed version)"] += 1
                elif adv.id in EXCEPTIONS:
                    explained[EXCEPTIONS[adv.id]] += 1
                else:
                    unexplained.append((adv.id, version, "listed" if expected else "not listed"))

    agreement = 100.0 * (checked - disagree) / checked
    upstream = sum(n for why, n in explained.items() if why in EXCEPTIONS.values())
    corrected = 100.0 * (checked - disagree + upstream) / checked
    print(f"\nPyPI oracle: {checked} (record, version) pairs checked, {disagree} disagree "
          f"({agreement:.2f} % raw agreement, {corrected:.2f} % without documented upstream errors)")
    for why, n in explained.most_common():
        print(f"  explained {n:5d}: {why}")
    print(f"  unexplained: {len(unexplained)} {unexplained[:20]}")
    assert checked > 100_000
    assert not unexplained
    assert agreement >= 99.0
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
