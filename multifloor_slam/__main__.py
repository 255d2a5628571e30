"""Allow ``python -m multifloor_slam``."""

from multifloor_slam.cli.main import main

raise SystemExit(main())
