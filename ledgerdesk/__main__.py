"""`python -m ledgerdesk ...` runs the command line."""

import sys

from ledgerdesk.cli import main

sys.exit(main())
