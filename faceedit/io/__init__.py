"""Files in and out, one module per job:

* :mod:`faceedit.io.formats`: which files are inputs of which kind
  (:func:`~faceedit.io.formats.input_kind`) and the image formats read and written;
* :mod:`faceedit.io.inputs`: input specs (files, folders, globs, ``-`` for paths on standard
  input) expanded into the input list (:func:`~faceedit.io.inputs.expand_inputs`);
* :mod:`faceedit.io.decode`: photos decoded (EXIF orientation, alpha, grey, 16 bits, CMYK;
  :func:`~faceedit.io.decode.read_image`);
* :mod:`faceedit.io.encode`: photos encoded and written atomically
  (:func:`~faceedit.io.encode.write_image`);
* :mod:`faceedit.io.naming`: output paths from a name template
  (:class:`~faceedit.io.naming.OutputNamer`).

Every failure is an :class:`~faceedit.errors.ImageError` (an input cannot be decoded), an
:class:`~faceedit.errors.OutputError` (an output cannot be written) or a
:class:`~faceedit.errors.UsageError` (a bad request), each with a short human reason; no raw
Pillow / OpenCV / OS exception escapes.
"""
