"""``python -m linq_mcp`` is the ``linq-mcp`` command."""

import sys

from .cli import main

sys.exit(main())
