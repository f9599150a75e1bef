"""faceedit: edit facial expression, lighting and attributes in photographs."""

__version__ = "0.1.0"
