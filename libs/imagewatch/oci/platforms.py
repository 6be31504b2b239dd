"""Platform selection: which manifests of an index to scan.

A selection is ``"all"`` or a list of ``os/arch[/variant]`` strings (default
``["linux/amd64"]``). A wanted platform without a variant matches any variant.
Attestation manifests (platform ``unknown/unknown``) are never selected:
they are not images. An entry with a real platform is an image whatever its
annotations say (a hostile index could otherwise hide its real image behind
an ``attestation-manifest`` annotation), and an index with two different
entries for one platform is refused: which one a node pulls cannot be told.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from imagewatch.oci.errors import InvalidManifest, InvalidReference, NoMatchingPlatform
from imagewatch.oci.manifest import Descriptor, ImageIndex, Platform

DEFAULT_PLATFORMS: tuple[str, ...] = ("linux/amd64",)
PlatformSelection = Sequence[str] | Literal["all"] | None



class AmbiguousPlatform(InvalidManifest):
    """An index holds two different manifests for one platform."""


def parse_platform(text: str) -> Platform:
    """``linux/arm64/v8`` -> Platform(os="linux", architecture="arm64", variant="v8")."""
    parts = text.strip().split("/")
    if len(parts) not in (2, 3) or not all(parts):
        raise InvalidReference(f"invalid platform {text!r}, expected os/arch[/variant]")
    return Platform(os=parts[0], architecture=parts[1], variant=parts[2] if len(parts) == 3 else "")


def is_attestation(entry: Descriptor) -> bool:
    """True only for ``unknown/unknown`` entries (BuildKit attestations); annotations are not trusted."""
    return (entry.platform is not None and entry.platform.os == "unknown"
            and entry.platform.architecture == "unknown")


def check_unambiguous(entries: list[Descriptor]) -> None:
    """Raise AmbiguousPlatform when two different digests claim one platform (os/arch/variant/os.version)."""
    seen: dict[tuple[str, str, str, str], str] = {}
    for e in entries:
        if e.platform is None:
            continue
        p = e.platform
        key = (p.os, p.architecture, p.variant, p.os_version)
        if seen.setdefault(key, e.digest) != e.digest:
            raise AmbiguousPlatform(f"index has two manifests for platform {p}: {seen[key]} and {e.digest}")


def _matches(wanted: Platform, have: Platform) -> bool:
    return (
        wanted.os == have.os
        and wanted.architecture == have.architecture
        and (not wanted.variant or wanted.variant == have.variant)
    )


def select_platforms(index: ImageIndex, selection: PlatformSelection = None) -> list[Descriptor]:
    """The index entries to scan, in index order, without duplicates or attestations.

    Raises NoMatchingPlatform (naming what the index offers) when nothing
    matches, AmbiguousPlatform when two entries claim one platform.
    """
    entries = [e for e in index.manifests if not is_attestation(e)]
    check_unambiguous(entries)
    if selection == "all":
        chosen = entries
    else:
        wanted = [parse_platform(p) for p in (selection or DEFAULT_PLATFORMS)]
        chosen = [
            e for e in entries
            if e.platform is not None and any(_matches(w, e.platform) for w in wanted)
        ]
    seen: set[str] = set()
    unique = [e for e in chosen if not (e.digest in seen or seen.add(e.digest))]
    if not unique:
        offered = ", ".join(str(e.platform) for e in entries if e.platform) or "nothing"
        raise NoMatchingPlatform(
            f"index has no manifest for {selection or list(DEFAULT_PLATFORMS)}; it offers {offered}"
        )
    return unique
