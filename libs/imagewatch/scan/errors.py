"""Exit codes of ``imagewatch scan`` and the one error type that carries them.

    0  scan done; no finding passed the filters, or ``--exit-code`` not given
    N  scan done and a finding passed the filters (``--exit-code N``)
    2  usage or target error: bad option, missing file, unknown image, bad ignore/VEX file
    3  scan failure: database unreachable, registry or layer error during the scan
    4  scan partial: parts of the image could not be read (analyser errors, skipped
       files), so findings may be missing; ``--allow-partial`` turns this into 0/N
"""

from __future__ import annotations
from imagewatch.errors import ImagewatchError

EXIT_OK = 0
EXIT_USAGE = 2
EXIT_FAILED = 3
EXIT_PARTIAL = 4


class ScanError(ImagewatchError):
    """scan: the scan cannot run or did not finish; ``code`` is the exit code (2 or 3)."""

    def __init__(self, message: str, code: int = EXIT_FAILED) -> None:
        super().__init__(message)
        self.code = code
