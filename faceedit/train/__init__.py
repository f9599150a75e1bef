"""Training: the loop every trainer shares (``loop``), one small trainer per method and per
analysis network (``analysis``), shared losses, critic step and export."""
