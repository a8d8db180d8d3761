"""``python -m newsclf`` runs the command-line interface."""

from newsclf._cli import main

raise SystemExit(main())
