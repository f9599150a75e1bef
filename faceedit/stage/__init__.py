"""The stage: the geometric edit under every method, applied to whole photos at full resolution.

An edit is geometry (where the parts of the face go), appearance (texture that was not there) and
shading (how the face is lit). The stage does all three from statistics, before a method's
network sees the face. Its modules, in the order an edit reads them:

* :mod:`~faceedit.stage.model`: :class:`~faceedit.stage.model.Stage`, the registered model: its
  configuration and statistics, the request it takes, and
  :meth:`~faceedit.stage.model.Stage.edit_photo`, the one loop over a photo's faces;
* :mod:`~faceedit.stage.steps`: the edit of one face as named steps in data order (plan the move,
  choose the cuts, warp, fill the mouth, paint the appearance, relight) over one record,
  :func:`~faceedit.stage.steps.edit_face`; the steps import the painters, modules of functions
  of the statistics and the pixels;
* :mod:`~faceedit.stage.records`: what the stage, the steps and the painters share: the stage's
  request (made once per photo from the edit request), a face as the stage takes it, one face's
  edit, what they read of the statistics;
* :mod:`~faceedit.stage.smile`: the smile's measures (taken away, added, the upper lip's lift)
  and the smile map on the skin; :mod:`~faceedit.stage.appearance`: the target's appearance map
  and the folds of the move (:mod:`~faceedit.stage.folds`);
* :mod:`~faceedit.stage.state`: a face's expression as a state of the shape model, targets and
  AUs as states (the named fine controls, their AUs and moves, are declared in
  :mod:`faceedit.edits.controls`; :mod:`~faceedit.stage.moves`: the controls' and targets'
  landmark moves);
* :mod:`~faceedit.stage.cutwarp`: the fold-free warp with the lips and eyelids as cuts (its
  curves in :mod:`~faceedit.stage.cut_curves`, its fields in :mod:`~faceedit.stage.cut_fields`,
  the smooth warp it builds on in :mod:`~faceedit.stage.warp`);
* :mod:`~faceedit.stage.lips`: what a photo's mouth shows (the interior found from colour);
  :mod:`~faceedit.stage.mouth_bank`: the mouth bank that paints an opened mouth
  (:mod:`~faceedit.stage.mouth`: what its builder shares with it, and closed lips' seam);
  :mod:`~faceedit.stage.eyes`: whether a move opens the eyes wider, and opened eyes keep their
  irises' size;
* :mod:`~faceedit.stage.paint`: canonical-frame appearance maps laid onto a face;
* :mod:`~faceedit.stage.attributes`: the attributes' painters (glasses, hair, skin, brows), each
  named by its record in :mod:`faceedit.edits.attributes`;
* :mod:`~faceedit.stage.shading`: relighting the head to a light direction;
* :mod:`~faceedit.stage.tuning`: the values set by looking rather than fitted, one record saved
  in the stage's checkpoint (its groups for lids, the warp's regions, a turned head and the
  head's mattes in :mod:`~faceedit.stage.tuning_face`); the steps pass it to the painters.

The package's own import is empty; :mod:`~faceedit.stage.tuning` and
:mod:`~faceedit.stage.tuning_face` import neither numpy nor torch.
"""
