"""What an edit can ask for, as data: the named controls (:mod:`faceedit.edits.controls`) and the
light's words and limits (:mod:`faceedit.edits.light`).

The edit request's validation (:mod:`faceedit.models.request`), the command line's help,
``faceedit models --json``, the page (:mod:`faceedit.ui`) and the stage (:mod:`faceedit.stage`)
read them. No numpy or torch, and nothing above the package's lowest layer is imported: the
command line reads them before any model loads.
"""
