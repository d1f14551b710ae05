"""`python -m bot` is the same as `hearth`."""

import sys

from bot.cli import main

sys.exit(main())
