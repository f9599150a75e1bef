"""Target vocabularies shared by every model: expressions, lighting classes, the attributes' words
(the attributes themselves are records: :mod:`faceedit.edits.attributes`).

Models name their targets with these canonical words; user input goes through
:func:`canonical_target` so ``smile`` / ``smiling`` / ``HA`` all mean ``happy``.
"""

from __future__ import annotations

# Expressions present in the shared data (London: neutral/smiling; JAFFE: 7 basic; Yale: + sleepy,
# wink). Order is fixed: it is the class index order of expression classifiers.
EXPRESSIONS = ["neutral", "happy", "sad", "surprised", "angry", "disgusted", "fearful", "sleepy", "wink"]

EXPRESSION_ALIASES = {
    "normal": "neutral", "ne": "neutral",
    "smile": "happy", "smiling": "happy", "happiness": "happy", "joy": "happy", "ha": "happy",
    "sadness": "sad", "sa": "sad",
    "surprise": "surprised", "su": "surprised",
    "anger": "angry", "an": "angry",
    "disgust": "disgusted", "di": "disgusted",
    "fear": "fearful", "afraid": "fearful", "fe": "fearful",
}

# Lighting classes (Yale center/left/right light; Extended Yale B azimuth/elevation grouped).
LIGHTING = ["front", "left", "right", "top", "bottom", "ambient"]

# The values of the attributes the stage paints by name (faceedit.stage.hair, skin, brows; their
# records in faceedit.edits.attributes): ``--attr hair=blond``.
HAIR_COLOURS = ("black", "brown", "blond", "red", "grey")
SKIN_TONES = ("pale", "tan")
BROW_STYLES = ("bushy", "thin")
NAMED_ALIASES = {"blonde": "blond", "gray": "grey", "ginger": "red"}

# CelebA's attributes (SeCGAN's paper edits them) that no model here edits believably, each with
# the reason: ``--attr NAME=...`` is refused with it, and ``faceedit models`` lists them.
UNSUPPORTED_ATTRIBUTES = {
    "bald": "no data shows a head without its hair, and the hair's shape is not modelled",
    "bangs": "no data shows a fringe to learn from, and the hair's shape is not modelled",
    "gender": "changes who the person is; the data pairs never change it",
    "age": "no data pairs one person at two ages",
    "moustache": "no data pairs a face with and without facial hair",
    "beard": "no data pairs a face with and without facial hair",
}

# Glasses the stage draws (faceedit.stage.glasses): ``--attr glasses=STYLE`` or ``STYLE-COLOUR``
# (``glasses=on`` the default style in its own colour).
GLASSES_STYLES = ("rectangular", "round", "aviator", "rimless")
GLASSES_COLOURS = ("black", "tortoise", "gold", "silver")
GLASSES_DEFAULT = "rectangular"


# Why the stage refuses ``--attr glasses=off`` (a value under 0.5): the frame must be found before
# it can be inpainted, and found as thin long lines round the eyes it cannot be told from the
# face's own brows, lids and creases (weights/secgan.md, "Hair colour, skin tone and brows"); the
# mean maps fitted on Yale's pairs paint a blurred ghost.
GLASSES_OFF_REFUSED = ("taking glasses off is refused: their frame cannot be told reliably from the face's "
                       "own brows, lids and creases, so inpainting it would smear the eyes")


def glasses_style(word: str) -> tuple[str, str | None] | None:
    """``"round"`` -> ``("round", None)``, ``"Round-Black"`` -> ``("round", "black")``; None for
    any other word (the caller names :func:`glasses_words`)."""
    style, _, colour = str(word).strip().lower().partition("-")
    if style not in GLASSES_STYLES or (colour and colour not in GLASSES_COLOURS):
        return None
    return style, colour or None


def glasses_words(off: bool = False) -> str:
    """What ``--attr glasses=`` takes, in words: on, a number 0.5..1 or a style; off and the
    numbers under 0.5 too where ``off`` (a network that takes them off itself: the stage
    refuses it, :data:`GLASSES_OFF_REFUSED`)."""
    return (f"on{', off' if off else ''}, a number {'0' if off else '0.5'}..1, or a style: "
            f"{', '.join(GLASSES_STYLES)} (each also as STYLE-COLOUR, colours {', '.join(GLASSES_COLOURS)}; "
            "e.g. round-black)")


def canonical_target(name: str) -> str:
    """Map a user-facing expression word to the canonical vocabulary (other words unchanged)."""
    key = name.strip().lower()
    return EXPRESSION_ALIASES.get(key, key)


# The words of a binary switch (attribute values such as ``--attr glasses=on``, environment flags).
ON_WORDS = ("on", "yes", "true", "1")
OFF_WORDS = ("off", "no", "false", "0")


def parse_switch(value: str) -> bool | None:
    """``on``/``yes``/``true``/``1`` -> True, ``off``/``no``/``false``/``0`` -> False (any case,
    surrounding spaces ignored); any other word -> None (the caller says what it accepts)."""
    key = str(value).strip().lower()
    return True if key in ON_WORDS else False if key in OFF_WORDS else None
