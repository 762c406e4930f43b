"""``python -m rates``."""

from rates.cli import main

raise SystemExit(main())
