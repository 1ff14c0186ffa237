"""``python -m scine.cli``: the same as the ``scine`` command (for launchers such as accelerate)."""

from scine.cli import main

main()
