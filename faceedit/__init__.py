"""faceedit: edit facial expression, lighting and attributes in photographs."""

import os as _os

# The stage solves one small (109 x 109) thin-plate-spline system per face and target with numpy.
# OpenBLAS's worker threads make each solve about 100 ms on two busy cores against 0.2 ms on one
# thread: `apply` ran 10.7 photos/s with them and 14-15 photos/s without (bench/bench_pipeline.py,
# 200 London photos at 512 px, outputs byte-identical). Only a default: set OPENBLAS_NUM_THREADS
# yourself to override it, and it takes effect only if numpy was not imported before faceedit.
_os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

__version__ = "0.1.0"
