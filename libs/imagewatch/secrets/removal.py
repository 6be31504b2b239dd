"""Which later layer deletes or overwrites a path: whiteouts, opaque directories, replacements."""

from __future__ import annotations

from collections.abc import Sequence

from imagewatch.layers.paths import ancestors


class Removals:
    """Answers "which layer above ``index`` first hides ``path``?" for one image's layers.

    Layer ``j`` hides a lower ``path`` when it whites out the path or one of
    its parents, makes the path or a parent opaque, or puts a non-directory
    entry at the path or at a parent (a file replacing a directory).
    """

    def __init__(self, layers: Sequence[tuple[Sequence[str], Sequence[str], Sequence[str]]]) -> None:
        """``layers`` holds (paths, whiteouts, opaque_dirs) per layer, bottom to top."""
        self._hiding: dict[str, list[int]] = {}
        for j, (paths, whiteouts, opaque) in enumerate(layers):
            for path in {*paths, *whiteouts, *opaque}:
                self._hiding.setdefault(path, []).append(j)

    def removed_in(self, path: str, index: int) -> int | None:
        """The lowest layer above ``index`` that hides ``path``, or None."""
        best: int | None = None
        for candidate in (path, *ancestors(path)):
            above = next((j for j in self._hiding.get(candidate, ()) if j > index), None)
            if above is not None and (best is None or above < best):
                best = above
        return best
