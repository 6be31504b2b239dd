"""Images whose layer tars are given as raw bytes (for hostile layers ``layer_tar`` cannot write).

``umoci raw add-layer`` compresses a tar as given, without reading its entries,
so a tar bomb or a ``../`` entry reaches the registry unchanged.
"""

from __future__ import annotations

import io
import subprocess
import tarfile
import tempfile
from collections.abc import Sequence
from pathlib import Path

from harness.images import Pushed, init_layout, push


def raw_tar(*members: tuple[str, bytes]) -> bytes:
    """A tar of regular files named exactly as given (no normalisation)."""
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name, data in members:
            info = tarfile.TarInfo(name)
            info.size, info.mtime = len(data), 1_700_000_000
            tar.addfile(info, io.BytesIO(data))
    return out.getvalue()


def _umoci(*args: str) -> None:
    result = subprocess.run(["umoci", *args], capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"umoci {' '.join(args)} failed:\n{result.stderr}")


def push_raw(registry: str, repository: str, tag: str, tars: Sequence[bytes]) -> Pushed:
    """Build an image from raw layer tars (base first) and push it as ``registry/repository:tag``."""
    with tempfile.TemporaryDirectory(prefix="iw-raw-") as scratch:
        layout = init_layout(Path(scratch) / "layout")
        image = f"{layout}:{tag}"
        _umoci("new", "--image", image)
        for number, data in enumerate(tars):
            path = Path(scratch) / f"layer{number}.tar"
            path.write_bytes(data)
            _umoci("raw", "add-layer", "--image", image, str(path))
        _umoci("config", "--image", image, "--os", "linux", "--architecture", "amd64")
        return push(layout, tag, f"{registry}/{repository}:{tag}")
