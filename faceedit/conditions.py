"""Target vocabularies shared by every model: expressions, lighting classes, attributes.

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

ATTRIBUTES = ["glasses"]


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
