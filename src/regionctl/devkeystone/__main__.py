"""``python -m regionctl.devkeystone prepare|serve``: the server child (see server.py)."""

import sys

from regionctl.devkeystone.server import main

sys.exit(main())
