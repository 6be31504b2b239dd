"""``python -m imagewatch.cli``: the ``imagewatch`` command."""

import sys

from imagewatch.cli.main import main

sys.exit(main())
