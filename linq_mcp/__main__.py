"""``python -m linq_mcp`` is the ``linq-mcp`` command."""

import sys

from linq_mcp.cli.main import main

sys.exit(main())
