"""Face detection, landmarks, alignment to crop templates, paste-back."""

from faceedit.faces.types import AlignedFace, CropTemplate, Face

__all__ = ["AlignedFace", "CropTemplate", "Face"]
