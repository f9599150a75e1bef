"""Model registry, checkpoints and one module per method."""
