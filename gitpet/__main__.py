"""``python -m gitpet``: the command line."""

import sys

from gitpet._cli import main

sys.exit(main())
