"""`python -m serve_app ...` is the `triage` command (for environments without the console script on PATH)."""

import sys

from serve_app.cli import main

sys.exit(main())
