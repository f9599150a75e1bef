"""Training: the loop every trainer shares (``loop``; what a trainer is in ``trainer``, the examples
in memory in ``crops``, the checked config in ``config``, the run folder in ``run_folder``), one
small trainer per method and per analysis network (``analysis``), shared losses, critic step and
export."""
