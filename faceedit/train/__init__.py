"""Training: shared losses and one small trainer per method."""
