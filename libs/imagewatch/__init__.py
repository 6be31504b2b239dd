"""imagewatch: scan container images when they are pushed, keep the results, alert chat.

The library holds the domain; services under ``services/`` are thin shells around it.
Nothing here does I/O at import time.
"""

__version__ = "0.1.0"
