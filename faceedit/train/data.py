"""Reading prepared datasets: the code lives in :mod:`faceedit.data` (a lower layer, so that
analysis, faces and eval read datasets without importing training code); re-exported here for
the training modules and existing callers."""

from faceedit.data import (
    UNLABELLED_LIGHTING,
    Dataset,
    condition_pairs,
    expression_pairs,
    holdout_subjects,
    load_crop,
    open_dataset,
    pair_groups,
    row_label,
)

__all__ = ["UNLABELLED_LIGHTING", "Dataset", "condition_pairs", "expression_pairs", "holdout_subjects",
           "load_crop", "open_dataset", "pair_groups", "row_label"]
