"""Edge cases of each version scheme, taken from the scheme's own documentation."""

from __future__ import annotations

import pytest

from imagewatch.versions import SCHEMES, InvalidVersion, UnknownEcosystem, VersionScheme, scheme_for

LT, EQ, GT = -1, 0, 1

CASES = {
    # PEP 440 "Summary of permitted suffixes and relative ordering".
    "pep440": [
        ("1.0.dev456", "1.0a1", LT), ("1.0a1", "1.0a2.dev456", LT), ("1.0a12", "1.0b1.dev456", LT),
        ("1.0b2.post345", "1.0c1", LT), ("1.0c1", "1.0rc1", EQ), ("1.0rc1", "1.0", LT),
        ("1.0", "1.0+abc.5", LT), ("1.0", "1.0.post456.dev34", LT), ("1.0.post456", "1.1.dev1", LT),
        ("1.0", "1.0.0", EQ), ("1!0.1", "2.0", GT), ("1.0-1", "1.0.post1", EQ),
    ],
    # semver.org section 11, plus OSV's lenient forms.
    "semver": [
        ("1.0.0", "2.0.0", LT), ("2.0.0", "2.1.0", LT), ("2.1.0", "2.1.1", LT),
        ("1.0.0-alpha", "1.0.0", LT), ("1.0.0-alpha", "1.0.0-alpha.1", LT),
        ("1.0.0-alpha.1", "1.0.0-alpha.beta", LT), ("1.0.0-alpha.beta", "1.0.0-beta", LT),
        ("1.0.0-beta", "1.0.0-beta.2", LT), ("1.0.0-beta.2", "1.0.0-beta.11", LT),
        ("1.0.0-beta.11", "1.0.0-rc.1", LT), ("1.0.0-rc.1", "1.0.0", LT),
        ("1.0.0+build.1", "1.0.0", EQ), ("v1.2.3", "1.2.3", EQ), ("1.2", "1.2.0", EQ), ("0", "0.0.1", LT),
    ],
    # go.dev/ref/mod#versions and #pseudo-versions; toolchain names from go.dev/doc/toolchain.
    "go": [
        ("v0.0.0-20191109021931-daa7c04131f5", "v0.0.1", LT),
        ("v1.2.3", "v1.2.4-0.20191109021931-daa7c04131f5", LT),
        ("v1.2.4-0.20191109021931-daa7c04131f5", "v1.2.4", LT),
        ("v1.2.3-pre.0.20191109021931-daa7c04131f5", "v1.2.3-pre", GT),
        ("v2.0.0+incompatible", "v2.0.0", EQ), ("v2.0.1+incompatible", "v2.0.0", GT),
        ("go1.21rc2", "1.21.0", LT), ("go1.21rc1", "go1.21rc2", LT), ("go1.20beta1", "go1.20rc1", LT),
        ("go1.21.3", "1.21.3", EQ), ("go1.21", "1.21.0", EQ), ("go1.9.2", "go1.10", LT),
        ("1.20.0-0", "go1.20rc1", LT),
    ],
    # Maven ComparableVersion javadoc and its unit tests.
    "maven": [
        ("1-alpha", "1-beta", LT), ("1-beta", "1-milestone", LT), ("1-milestone", "1-rc", LT),
        ("1-rc", "1-cr", EQ), ("1-rc", "1-snapshot", LT), ("1-snapshot", "1", LT),
        ("1", "1-ga", EQ), ("1", "1-final", EQ), ("1", "1-sp", LT), ("1.0", "1", EQ),
        ("1-1", "1", GT), ("1.0a1", "1.0-alpha-1", EQ), ("2.0.0-M1", "2.0.0", LT), ("1.10", "1.9", GT),
    ],
    # Gem::Version docs.
    "rubygems": [
        ("1.0.a", "1.0", LT), ("1.0", "1.0.0", EQ), ("1.0.0.pre", "1.0.0.rc1", LT),
        ("1.0.b1", "1.0.a2", GT), ("5.2.4.3", "5.2.4.10", LT), ("1.0.0.a10", "1.0.0.a9", GT),
    ],
    # NuGet package versioning docs.
    "nuget": [
        ("1.0.0.0", "1.0.0", EQ), ("1.0.0-Beta", "1.0.0-beta", EQ), ("1.0.0-alpha", "1.0.0", LT),
        ("1.0.0.1", "1.0.0", GT), ("1.0.0-alpha.10", "1.0.0-alpha.2", GT), ("1.0.0+meta", "1.0.0", EQ),
    ],
    # Composer docs (stability flags) and VersionParser::normalize.
    "composer": [
        ("1.0.0-dev", "1.0.0-alpha1", LT), ("1.0.0-alpha", "1.0.0-beta", LT),
        ("1.0.0-beta2", "1.0.0-RC1", LT), ("1.0.0-RC1", "1.0.0", LT), ("1.0.0", "1.0.0-patch1", LT),
        ("v1.0.0", "1.0.0", EQ), ("1.0", "1.0.0.0", EQ), ("1.0.0-b2", "1.0.0-beta2", EQ),
        ("1.0.0-rc.2", "1.0.0-RC10", LT), ("1.0.0-beta1-dev", "1.0.0-beta1", LT),
    ],
    # deb-version(7).
    "dpkg": [
        ("1.0~rc1", "1.0", LT), ("1.0~~", "1.0~~a", LT), ("1.0~~a", "1.0~", LT), ("1.0~", "1.0", LT),
        ("1:1.0", "2.0", GT), ("0:1.0", "1.0", EQ), ("1.0-1", "1.0", GT), ("1.0+b1", "1.0", GT),
        ("2.36.1-8+deb12u1", "2.36.1-8", GT), ("1.0a", "1.0", GT), ("1.0.0", "1.0", GT),
        ("7.88.1-10+deb12u5", "7.88.1-10+deb12u12", LT),
    ],
    # rpm.org "RPM version comparison" (tilde and caret).
    "rpm": [
        ("1.0~rc1", "1.0", LT), ("1.0^", "1.0", GT), ("1.0^git1", "1.0.1", LT), ("1.0~rc1", "1.0^", LT),
        ("1.0~rc1^git1", "1.0~rc1", GT), ("1.0~~", "1.0~", LT), ("1:1.0", "2.0", GT),
        ("1.0-1", "1.0-2", LT), ("2.0.1a", "2.0.1", GT), ("1.0.0-1.el8", "1.0.0-1.el8_1", LT),
        ("1.10", "1.9", GT),
    ],
    # apk-tools version.c and Alpine's APKBUILD reference (pkgver suffixes).
    "apk": [
        ("1.0_alpha", "1.0_beta", LT), ("1.0_beta", "1.0_pre", LT), ("1.0_pre", "1.0_rc", LT),
        ("1.0_rc", "1.0", LT), ("1.0", "1.0_cvs", LT), ("1.0_cvs", "1.0_svn", LT),
        ("1.0_svn", "1.0_git", LT), ("1.0_git", "1.0_hg", LT), ("1.0_hg", "1.0_p", LT),
        ("1.0_rc1", "1.0_rc2", LT), ("1.0-r1", "1.0-r0", GT), ("3.1.1-r9", "3.1.1-r10", LT),
        ("1.0a", "1.0", GT), ("1.2.3-r0", "1.2.10-r0", LT), ("2.4.57-r0", "2.4.57_p1-r0", LT),
        ("1.05", "1.5", LT), ("0", "1.0", LT), ("1.0", "1.0.0", LT),
    ],
}

INVALID = {
    "pep440": ["not a version", "1.0-foo-bar"], "semver": ["1.0.0.0", "01.2.3", "1.2.3-01"],
    "go": ["vX"], "composer": ["dev-master x"], "apk": ["1.0_foo", "v1.0"], "dpkg": ["!!"],
}


@pytest.mark.parametrize(("scheme", "a", "b", "expected"),
                         [(s, a, b, e) for s, cases in CASES.items() for a, b, e in cases])
def test_order(scheme: str, a: str, b: str, expected: int) -> None:
    s = SCHEMES[scheme]
    assert s.compare(a, b) == expected
    assert s.compare(b, a) == -expected


def test_every_scheme_is_tested_and_fits_protocol() -> None:
    assert set(CASES) == set(SCHEMES)
    for scheme in SCHEMES.values():
        assert isinstance(scheme, VersionScheme)


@pytest.mark.parametrize(("scheme", "bad"), [(s, b) for s, bads in INVALID.items() for b in bads])
def test_invalid_versions_raise_with_prefix(scheme: str, bad: str) -> None:
    with pytest.raises(InvalidVersion, match=rf"^versions\.{scheme}: "):
        SCHEMES[scheme].key(bad)


def test_empty_version_is_invalid() -> None:
    with pytest.raises(InvalidVersion):
        SCHEMES["semver"].key("")


@pytest.mark.parametrize(("ecosystem", "scheme"), [
    ("PyPI", "pep440"), ("npm", "semver"), ("crates.io", "semver"), ("Go", "go"),
    ("Debian:12", "dpkg"), ("Ubuntu:22.04:LTS", "dpkg"), ("Alpine:v3.19", "apk"),
    ("Rocky Linux:9", "rpm"), ("AlmaLinux:8", "rpm"), ("Packagist", "composer"),
])
def test_scheme_for_ecosystem(ecosystem: str, scheme: str) -> None:
    assert scheme_for(ecosystem).name == scheme


def test_unknown_ecosystem() -> None:
    with pytest.raises(UnknownEcosystem, match="^versions: "):
        scheme_for("Nonexistent")


def test_keys_sort() -> None:
    s = SCHEMES["dpkg"]
    versions = ["1.0", "1:0.1", "1.0~rc1", "1.0-1", "0.9"]
    assert sorted(versions, key=s.key) == ["0.9", "1.0~rc1", "1.0", "1.0-1", "1:0.1"]
