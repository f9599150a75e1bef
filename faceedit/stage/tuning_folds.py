"""The stage's tuned values for an expression's folds and the lines a face shows taken away: a
group of :class:`faceedit.stage.tuning.StageTuning` (the rule for what is tuned is in that
module's docstring, the evidence in ``docs/stage-tuning.md``).

No numpy or torch: a plain frozen record with its defaults.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class FoldsTuning:
    """How an expression's folds are drawn and the lines a face shows taken away
    (:mod:`faceedit.stage.folds`; the fitted shapes are ``weights/folds.safetensors``'s). Widths
    in eye distances."""

    #: The sharp side's width (about 1.3 px at 1350 px) ...
    sharp: float = 0.005
    #: ... at least this many px: a fold's edge where the skin turns into it. Set by looking at
    #: 1350-px faces (the data's 256-px photos cannot resolve it).
    sharp_px: float = 0.8
    #: Kinds whose sharp side is wider: the nasolabial furrow's lateral edge is the cheek's bulge
    #: turning into it, not a cut; at 0.005 it read at 1350 px as a ruled line from the nose wing
    #: to the mouth corner (014, 097 disgusted and angry).
    sharp_kind: dict[str, float] = field(default_factory=lambda: {"nasolabial": 0.014})
    #: Kinds drawn sharp on their lateral (positive) side and soft towards the face's middle over
    #: the fitted side: the posed photos put the glabellar lines' sharp edge medial, and two such
    #: lines leave the unshaded skin between them as a bright vertical strip (London 014, 097 and
    #: 131 made angry or sad); soft towards the middle, the two lines' shade meets between them.
    #: The glabella itself is drawn as creases (``crease_*`` below), not by its fitted profile.
    soft_medial: tuple[str, ...] = ("glabella",)
    #: How far across a fold its profile is drawn (either side), at least: further where its
    #: shoulder lies beyond.
    reach: float = 0.12
    #: The outer share of a fold's reach over which its profile fades to nothing (smoothstep): a
    #: profile cut where it is still lit or shaded leaves an edge along the whole line.
    reach_fade: float = 0.25
    #: The most of a fold's fitted depth an edit draws (the targets' set AUs lie beyond the posed
    #: photos' mean: angry's AU4 4.5 against their 1.7).
    max_amount: float = 1.25
    #: The deepest a fold may make the skin (a ratio): nothing painted goes black.
    min_ratio: float = 0.55
    #: The highest a fold's shoulder rises (a share of its valley's drop): a crease is a valley
    #: with a lit rim, never a bright line.
    shoulder: float = 0.3
    #: The power of the ratio per channel (R, G, B): skin in a crease's shade loses more green
    #: and blue than red (light scattered under the skin comes out reddened), so a groove drawn
    #: with R, G and B scaled alike reads as a grey stroke on pale skin. Luma's weights keep its
    #: mean power 1 ...
    shade_tint: tuple[float, float, float] = (0.8, 1.06, 1.28)
    #: ... taken in full where the pixel's own colour is at least this saturated, not at all on a
    #: grey one (a grey photo's lines stay grey).
    tint_chroma: float = 0.12
    #: The glabellar lines are drawn as creases under the photo's light
    #: (:mod:`faceedit.stage.creases`), laid out from the moved brows' inner ends (eye
    #: distances): (their lower end's drop below those ends, their length, half their spacing as
    #: a share of the ends' gap, within (least, most), their lower end's bend outwards, their
    #: lean: the top nearer the middle by this share of the length) ...
    crease_layout: tuple[float, float, float, float, float, float, float] = (0.0, 0.26, 0.3, 0.045, 0.1, 0.012, 0.0)
    #: ... each face's own unevenness (:func:`faceedit.stage.creases.face_code`): one line deeper
    #: and longer than the other by up to these shares (depth, length), the bend and the lean
    #: varied by up to these ...
    crease_uneven: tuple[float, float, float, float] = (0.2, 0.2, 0.5, 0.06)
    #: ... a groove's sigma across ...
    crease_width: float = 0.018
    #: ... its floor's darkening (a log ratio per depth) and its walls' lightening as they turn
    #: to the light ...
    crease_shade: tuple[float, float] = (0.14, 0.08)
    #: ... the bunched skin between them: its lift at its top (none: lifted, it read as a pale
    #: strip between the lines), its slopes' lightening as they turn to the light, its sigma
    #: across (a share of the lines' spacing) and down the face ...
    crease_bulge: tuple[float, float, float, float] = (0.0, 0.03, 0.45, 0.12)
    #: ... and with the inner brows raised (sad, AU1+4: short furrows above the inner brows) the
    #: lines shorter by this share and their lower ends raised by this (eye distances).
    crease_sad: tuple[float, float] = (0.2, 0.03)
    #: ... and shallower and softer: at full sad the grooves' depth times the first, their sigma
    #: times the second (JAFFE's training sad faces show no two furrows on their mean map, 0.001
    #: and 0.012 deep where angry's are 0.036 and 0.027: bench/measure_glabella.py).
    crease_sad_soft: tuple[float, float] = (0.25, 1.5)
    #: The skin between the lines brought to the forehead's luma beside the brows' heads at the
    #: same height: (the share of the photo's excess there taken off, a log ratio,
    #: :func:`faceedit.stage.creases.strip_excess`; how
    #: far below the lines' lower ends that strip reaches, eye distances), so the bunched skin
    #: is never a pale strip between the lines.
    crease_even: tuple[float, float] = (1.0, 0.05)
    #: ... brought in from this far above the strip's top (eye distances; over 0.05 about it a
    #: sheen's excess taken off left a dark block with a straight top under the forehead's
    #: light, training 062 made angry at 2x).
    crease_even_fade: float = 0.1
    #: The forehead's lines of raised brows are creases too (:mod:`faceedit.stage.forehead_creases`,
    #: shaded by ``crease_shade``): each row's height above the brows' arch (a parabola through
    #: their points, eye distances) ...
    forehead_heights: tuple[float, float, float] = (0.2, 0.31, 0.42)
    #: ... its depth ...
    forehead_depths: tuple[float, float, float] = (0.72, 0.8, 0.64)
    #: ... the share of the brows' arch the lowest and the highest row keep, and with the inner
    #: brows raised alone (sad) how much more each row bows up over the forehead's middle (a
    #: parabola's curvature, eye distances down per squared eye distance across) ...
    forehead_arch: tuple[float, float, float] = (0.9, 0.5, 0.45)
    #: ... half a row's length with the inner brows raised alone (sad: the forehead's middle) and
    #: with the whole brows raised (surprise: across), each higher row shorter by this share, and
    #: how far from its ends it fades in ...
    forehead_reach: tuple[float, float, float, float] = (0.3, 0.8, 0.15, 0.15)
    #: ... a groove's sigma across ...
    forehead_width: float = 0.012
    #: ... and each face's own unevenness (:func:`faceedit.stage.creases.face_code`): the rows
    #: higher or lower by up to this share, the middle's lines off the face's middle by up to
    #: this (eye distances, each row by up to half as much again), every other row deeper and the
    #: rest shallower by up to this share, each row longer or shorter by up to this share.
    forehead_uneven: tuple[float, float, float, float] = (0.1, 0.04, 0.15, 0.2)
    #: The inner brows raised and knit (AU1+4, sad's bow) or not (fear as the stage moves it:
    #: AU1 with no AU4): knit from AU4's level over AU1's at the first (none) to the second (full,
    #: :func:`faceedit.stage.forehead_creases.forehead_knit`); not knit, a row's half length at
    #: spread 0, the rows' spacing's share of ``forehead_heights``', the top row's share of its
    #: depth and how far each row's centre waves (eye distances).
    forehead_knit: tuple[float, float, float, float, float, float] = (0.1, 0.3, 0.42, 0.8, 0.6, 0.008)
    #: Below the first spread (:func:`faceedit.stage.forehead_creases.forehead_spread`: the
    #: outer brows' rise over the inner's) the forehead's lines are all these creases, from the
    #: second all the fitted lines across it (surprise's: a valley with a lit rim, as many bright
    #: streaks as JAFFE's real surprised foreheads, ``docs/folds.md``), smoothly between.
    forehead_across: tuple[float, float] = (0.3, 0.8)
    #: Hair over the forehead's lines (:func:`faceedit.stage.forehead_creases.forehead_hair`):
    #: hair where the forehead's luma over the cheeks' is under the first (fully at the second
    #: below it), or where its fine texture's energy over the cheeks' times the texture's one
    #: direction (0..1) is over the third (fully at the fourth above it), smoothed over this
    #: (eye distances), a matte from half of that.
    forehead_hair: tuple[float, float, float, float, float] = (0.8, 0.2, 1.2, 0.5, 0.03)
    #: A young child's forehead (:func:`faceedit.faces.reading.reads_child`) folds this share as
    #: deep: a baby's taut skin barely creases under raised brows (an adult's furrows across a
    #: sleeping newborn's forehead made surprised read as an old man's, by eye at face size).
    child_forehead: float = 0.3
    #: Taking away the lines a face shows, the kinds whose AUs the landmarks read (the nose's and
    #: the nasolabial furrow lie on the nose's and cheeks' own shading): how far round their
    #: curves ...
    smooth_reach: dict[str, float] = field(default_factory=lambda: {"forehead": 0.07, "glabella": 0.08})
    #: ... the band of scales a line lives in (Gaussian sigmas: finer is the skin's texture, kept;
    #: broader is the face's shading, kept), its fine end ...
    smooth_fine: float = 0.007
    smooth_broad: float = 0.08
    #: ... blurred along the kind's lines by this (glabellar lines run down the face, forehead
    #: lines across it): a spot (a mole, a freckle) is no line and stays ...
    smooth_along: float = 0.04
    #: ... and how far the brows and the eyes are kept clear of it: their dark is no line.
    smooth_clear: float = 0.03
    #: Lines are taken away only by the fall of their AUs from above this level (AU4, or AU1 +
    #: AU2): London's neutral faces read 0-2.3 (the state's noise; 10 held-out people), a posed
    #: frown 3.9, a posed disgust 5.0.
    smooth_from_au: float = 2.0
    #: A frown taken away (the same AU4 fall as the glabellar lines') flattens the knit's shading
    #: relief over the glabella and the brows' heads (:func:`faceedit.stage.relief.flatten_knit`):
    #: this share of it at a whole frown taken ...
    knit_flatten: float = 1.0
    #: ... the band between blurs of these (eye distances, Gaussian sigmas: finer is the skin's
    #: grain, broader its colour and the face's light) ...
    knit_fine: float = 0.02
    knit_broad: float = 0.15
    #: ... within this of a line over the brows' inner halves and the glabella, feathered over
    #: this ...
    knit_reach: float = 0.12
    knit_feather: float = 0.05
    #: ... and the brows' hairs kept out of the blurs and left: a pixel is hair by its browness
    #: (:func:`faceedit.stage.brows.browness`) times this, up to all of it.
    knit_brow: float = 2.0
    #: An edit to a target without a frown (:data:`~faceedit.stage.rest.UNFROWNED`) takes away
    #: the lines of a frown the photo itself shows (its furrow across the glabella,
    #: :func:`~faceedit.stage.relief.furrow_shown`: London's photos read 0), all of them from
    #: this much shown: JAFFE's posed disgust and anger read 0.3-1.0 where they show their lines
    #: (the state reads the knit as the person's own face, the brows' 68 points no frown), and
    #: their glabellar lines and the wrinkles across the nose's root stayed under a smile or a
    #: raise ...
    release_full: float = 0.5
    #: ... the nose's wrinkles then taken away within this of their curves (eye distances), with
    #: the glabella's and forehead's ``smooth_reach``.
    release_reach: dict[str, float] = field(default_factory=lambda: {"nose": 0.06})
    #: ... and the chin's bunched skin (AU17) flattened with them
    #: (:func:`faceedit.stage.relief.flatten_chin`): this share of its relief at a whole frown
    #: released ...
    chin_flatten: float = 1.0
    #: ... the band between blurs of these (eye distances) ...
    chin_fine: float = 0.02
    chin_broad: float = 0.12
    #: ... between the lower lip's edge and the jaw's chin kept this far clear, feathered over this.
    chin_clear: float = 0.05
    chin_feather: float = 0.05
    #: Targets that draw a smile's cheek under the eye (:mod:`faceedit.stage.apple`, its profile
    #: measured on smiles: sad's prototype has an AU6 too, not measured) ...
    apple_targets: tuple[str, ...] = ("happy",)
    #: ... and how far along each lower lid (eye distances): the share of the lid's inner half
    #: over which it rises from nothing at the inner corner, and how far past the outer corner it
    #: fades out, and the cheek's mound's sigma across the face about the lid's middle. Set by
    #: looking (the measurement spans the lid's middle ±0.15).
    apple_along: tuple[float, float, float] = (1.0, 0.12, 0.22)
