"""``python -m posecoach`` is the same as the ``posecoach`` command."""

from posecoach.entry import main

raise SystemExit(main())
