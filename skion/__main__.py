"""``python -m skion``: same as the ``skion`` command."""

import sys

from .cli import main

sys.exit(main())
