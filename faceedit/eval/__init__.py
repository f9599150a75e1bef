"""Evaluation: image metrics, contact sheets."""
