"""``python -m posecoach`` is the same as the ``posecoach`` command."""

from posecoach.cli import main

raise SystemExit(main())
