"""Training the face-analysis networks (``faceedit train-analysis KIND``) on the shared loop, one
module per network: :mod:`~faceedit.train.analysis.classifier` (expression and lighting),
:mod:`~faceedit.train.analysis.identity`, :mod:`~faceedit.train.analysis.parser` and
:mod:`~faceedit.train.analysis.quality`, each a small trainer that states its data
(``load_data``), network, augmentation, loss, held-out metrics and model-card text;
:mod:`~faceedit.train.analysis.common` is what they share (:class:`AnalysisTrainer`: AdamW with
a cosine learning-rate decay over the run's planned length, one augmentation and one loss per
batch, sample sheets, the export with its card); :func:`~faceedit.train.analysis.kinds.analysis_trainer`
finds a kind's trainer.

The loop (:mod:`faceedit.train.loop`) gives them the run folder (state, ``log.jsonl``, samples,
``report.json``), resume, per-step seeding and DDP. Held out: the subjects of
:func:`faceedit.data.split_rows` at seed 0, the split every network and ``faceedit eval`` use,
whatever the training seed. The architectures, loading, inference and metrics are in
:mod:`faceedit.analysis`.
"""
