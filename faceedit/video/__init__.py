"""Video: ``faceedit apply clip.mp4`` edits every frame, streamed, faces tracked and smoothed.

* :mod:`faceedit.video.container`: reading and writing video files with PyAV (audio copied);
* :mod:`faceedit.video.track`: faces tracked from frame to frame (Face Mesh on the predicted ROI);
* :mod:`faceedit.video.smooth`: the temporal filters (One-Euro on the pose and the shape);
* :mod:`faceedit.video.edit`: the held expression, the steadied mouth and eyes;
* :mod:`faceedit.video.runner`: one video end to end (:func:`edit_video`), progress;
* :mod:`faceedit.video.drive`: a photo (or a video) driven by a video's performance
  (``apply --like DRIVER.mp4``: :func:`drive_photo`, :func:`drive_video`);
* :mod:`faceedit.video.batch`: the video engine of ``apply``: the outputs planned for a video
  (:mod:`faceedit.plan`), one record per output;
* :mod:`faceedit.video.synth`: clips from a still photo under a known camera motion (tests, bench).

PyAV is imported where a video is opened, never at import time.
"""
