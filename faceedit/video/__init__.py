"""Video: ``faceedit apply clip.mp4`` edits every frame, streamed, faces tracked and smoothed.

* :mod:`faceedit.video.container`: reading and writing video files with PyAV (audio copied);
* :mod:`faceedit.video.track`: faces tracked from frame to frame (Face Mesh on the predicted ROI);
* :mod:`faceedit.video.smooth`: the temporal filters (One-Euro on the pose and the shape);
* :mod:`faceedit.video.edit`: editing a frame whose faces are known (the editing flow), the
  held expression, the steadied mouth;
* :mod:`faceedit.video.runner`: one video end to end (:func:`edit_video`), progress;
* :mod:`faceedit.video.batch`: many videos, one record per output;
* :mod:`faceedit.video.apply`: photos and videos in one ``apply`` run;
* :mod:`faceedit.video.on_ray`: one Ray task per video;
* :mod:`faceedit.video.synth`: clips from a still photo under a known camera motion (tests, bench).

PyAV is imported where a video is opened, never at import time.
"""
