"""``python -m gitpet``: the command line."""

import sys

from gitpet.cli.main import main

sys.exit(main())
