"""``python -m backing.cli``: the ``backing`` command."""

import sys

from backing.cli import main

sys.exit(main())
