"""``python -m bayes_ccd``: the ``bayes-ccd`` command line."""

from __future__ import annotations

import sys

from bayes_ccd.cli import main

sys.exit(main())
