"""`python -m pixeldrive.cli`: the `pixeldrive` command."""

import sys

from pixeldrive.cli.commands import main

sys.exit(main())
