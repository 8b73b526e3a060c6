"""``python -m synesthesia`` runs the command line."""

from synesthesia.cli.main import main

raise SystemExit(main())
