"""`python -m musicapp` runs the `musicapp` command."""

import sys

from musicapp.cli import main

sys.exit(main())
