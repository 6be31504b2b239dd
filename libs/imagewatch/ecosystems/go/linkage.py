"""Which Go packages and symbols a binary links, per module, and the verdict on a Go advisory.

Function names from the pclntab (``golang.org/x/crypto/openpgp.ReadMessage``,
``net/http.(*Server).Serve``, ``pkg.Map[...]``, closures ``pkg.F.func1``) are
split into the import path (the last path element escapes dots as ``%2e``) and
the symbol in OSV's spelling: receivers without ``(*`` / ``)``, type
parameters dropped, closures and method values folded into the function that
holds them (``T.M``, ``F``). Each module of the binary keeps the import paths
of its packages in full and its symbols as sorted 4-byte BLAKE2b hashes of
``path.Symbol`` (``LinkedCode.symbols``, base64): a binary with 20,000
functions costs about 100 KiB however long its names, and a hash collision can
only turn ``package-linked`` into ``reachable``, never hide anything.

An advisory's ``affected[].ecosystem_specific.imports[]`` (``path``,
``symbols``) is judged against that: ``reachable`` when a listed symbol is
linked, ``package-linked`` when a listed package is linked but no listed
symbol is (or none is listed), ``not-linked`` when no function of any listed
package is in the binary. Without imports, or without a function table, there
is no verdict (``""``), which counts as linked everywhere.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Iterable, Mapping, Sequence
from urllib.parse import unquote

from imagewatch.models import LinkedCode

REACHABLE, PACKAGE_LINKED, NOT_LINKED = "reachable", "package-linked", "not-linked"
STRENGTH = {NOT_LINKED: 0, PACKAGE_LINKED: 1, REACHABLE: 2, "": 3}
MAX_SYMBOLS = 400_000
MAIN = "main"
_CLOSURE = re.compile(r"(?:func|gowrap|deferwrap)\d+|\d+")
_SKIP = ("type:", "go:", "go.", "type..", "runtime.gcbits")


def _strip_type_args(name: str) -> str:
    if "[" not in name:
        return name
    out, depth = [], 0
    for ch in name:
        if ch == "[":
            depth += 1
        elif ch == "]":
            depth = max(depth - 1, 0)
        elif not depth:
            out.append(ch)
    return "".join(out)


def normalise_symbol(symbol: str) -> str:
    """A symbol as OSV writes it: ``(*T).M`` -> ``T.M``, ``F.func1`` -> ``F``, ``F[...]`` -> ``F``."""
    symbol = _strip_type_args(symbol).removesuffix("-fm")
    parts = symbol.split(".")
    head = parts[0]
    if head.startswith("(") and head.endswith(")"):
        parts[0] = head.strip("(*)")
    while len(parts) > 1 and _CLOSURE.fullmatch(parts[-1]):
        parts.pop()
    return ".".join(parts)


def split_function(name: str) -> tuple[str, str] | None:
    """(import path, OSV symbol) of one pclntab function name; None for linker-made names."""
    if name.startswith(_SKIP):
        return None
    name = _strip_type_args(name)
    dot = name.find(".", name.rfind("/") + 1)
    if dot <= 0:
        return None
    path = name[:dot]
    return (unquote(path) if "%" in path else path), normalise_symbol(name[dot + 1:])


def symbol_hash(path: str, symbol: str) -> bytes:
    """The 4-byte hash a linked ``path.symbol`` is stored under."""
    return hashlib.blake2b(f"{path}.{symbol}".encode(), digest_size=4).digest()


def is_stdlib(path: str) -> bool:
    """Standard library import paths have no dot in their first element (``net/http``, ``vendor/...``)."""
    return path not in (MAIN, "_") and "." not in path.split("/", 1)[0]


def _owner(path: str, modules: Sequence[str]) -> str | None:
    """The module (longest prefix) holding package ``path``; ``stdlib`` for the standard library."""
    best = None
    for mod in modules:
        if (path == mod or path.startswith(mod + "/")) and (best is None or len(mod) > len(best)):
            best = mod
    if best is None and is_stdlib(path):
        return "stdlib"
    return best


def linked_by_module(names: Iterable[str], modules: Sequence[str], main_module: str = "") -> dict[str, LinkedCode]:
    """For each module path in ``modules`` (and ``stdlib``): the packages and symbol hashes it links.

    Functions of package ``main`` belong to ``main_module`` (the main package's
    own import path is not in the binary). A binary with more than
    ``MAX_SYMBOLS`` distinct symbols keeps its packages and drops the symbol
    hashes (``complete_symbols`` false): verdicts then stop at ``package-linked``.
    """
    packages: dict[str, set[str]] = {}
    hashes: dict[str, set[bytes]] = {}
    total = 0
    owners: dict[str, str | None] = {}
    for name in names:
        split = split_function(name)
        if split is None:
            continue
        path, symbol = split
        if path not in owners:
            owners[path] = main_module if path == MAIN and main_module else _owner(path, modules)
        owner = owners[path]
        if owner is None:
            continue
        packages.setdefault(owner, set()).add(path)
        bucket = hashes.setdefault(owner, set())
        if total < MAX_SYMBOLS:
            before = len(bucket)
            bucket.add(symbol_hash(path, symbol))
            total += len(bucket) - before
    complete = total < MAX_SYMBOLS
    return {owner: LinkedCode(
        packages=sorted(paths),
        symbols=base64.b64encode(b"".join(sorted(hashes.get(owner, ())))).decode() if complete else "",
        complete_symbols=complete,
    ) for owner, paths in packages.items()}


def _symbol_set(linked: LinkedCode) -> frozenset[bytes]:
    raw = base64.b64decode(linked.symbols) if linked.symbols else b""
    return frozenset(raw[i:i + 4] for i in range(0, len(raw) - 3, 4))


def verdict(linked: LinkedCode | None, imports: Iterable[Mapping[str, object]], module: str = "") -> str:
    """``reachable``, ``package-linked``, ``not-linked`` for OSV ``imports`` entries, or ``""`` (no verdict).

    ``linked`` is what the binary links of the advisory's module (None: no
    function table was read, so nothing is known). ``module`` is that module's
    path: a listed package under it that is not found may be the binary's own
    ``main`` package, which counts as ``package-linked`` when ``main`` is linked.
    """
    entries = [i for i in imports if isinstance(i, Mapping) and isinstance(i.get("path"), str) and i["path"]]
    if linked is None or not entries:
        return ""
    have = set(linked.packages)
    symbols: frozenset[bytes] | None = None
    best = NOT_LINKED
    for entry in entries:
        path = str(entry["path"])
        wanted = [normalise_symbol(s) for s in entry.get("symbols") or () if isinstance(s, str)]
        if path in have:
            found_path = path
        elif MAIN in have and module and (path == module or path.startswith(module + "/")):
            found_path = MAIN
        else:
            continue
        best = PACKAGE_LINKED
        if wanted and linked.complete_symbols:
            symbols = _symbol_set(linked) if symbols is None else symbols
            if any(symbol_hash(found_path, s) in symbols for s in wanted):
                return REACHABLE
    return best


def strongest(verdicts: Iterable[str]) -> str:
    """The verdict that alerts most (``""``, no verdict, above ``reachable``)."""
    return max(verdicts, key=STRENGTH.__getitem__, default="")
