"""`python -m shared.cli`: the `tuxhook` command, as the supervisors and the tests run it."""

import sys

from shared.cli import main

sys.exit(main())
