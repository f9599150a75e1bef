"""The stage's tuned values as data: one frozen record, saved in the stage checkpoint's header.

The rule for a number of the stage (``faceedit/stage/*.py``): take the first that fits.

1. Not a value (a cache, a lock, a type, a message's text): a module constant.
2. Contract: a name, a file name, a file's format (the mouth bank's scale and columns, a
   tensor's rows), what a request's word or unit means (``pose`` 1 in degrees, ``gaze_x`` 1's
   travel, ``aaa`` 1's drop, what a control's registered move does at 1 such as a wink's
   squeeze and the lids following ``gaze_y``, a named target's moves, the strength's range) or
   a catalogue a user picks from (glasses, hair colours, skin tones): a module constant;
   changed only with the interface or the file format, never per stage file.
3. Face model: landmark indices, contours, mirror maps, template shapes and shares per point,
   the mean head: a module constant.
4. Numerical: a value whose change alters how exactly or how fast something is computed, not
   what it aims at (iterations, seeds, grids, work scales, supersampling, sample counts, memory
   budgets, guards against fold-over, unit conversions such as luma weights): a module constant.
5. Reading: a calibration of how landmarks or blendshapes are read into the state (the state
   fit's noise and priors, a lid's raise, the blendshape curves), judged against measured truth,
   not by looking at an edit: a module constant, beside the command that measured it.
6. Everything else sets how an edit looks (how far, how dark, how soft, where, when a thing
   counts as found) and was set by looking at edits or from a measurement chosen by looking: it
   belongs in :class:`StageTuning`. Those still module constants are listed "to move" in
   ``docs/stage-tuning.md``, with every constant of the stage and its side
   (``python bench/stage_constants.py``).

:class:`StageTuning` groups the values that were set by looking at edits rather than fitted:
how an edit moves and cuts the mouth (:class:`EditTuning`), how the mouth bank paints an opened
mouth and closed lips and how a photo's mouth is read (:class:`~faceedit.stage.tuning_mouth.MouthTuning`
and :class:`~faceedit.stage.tuning_lips.LipsTuning`, in their own modules), how opened eyes keep their irises and moved ones
are refilled (:class:`EyesTuning`), the light's default strength and how a relit head meets
the scene (:class:`LightTuning`), how closed lids are drawn
(:class:`~faceedit.stage.tuning_lids.LidsTuning`, in its own module), and, in :mod:`faceedit.stage.tuning_face`, the regions a warp moves and its
cut curves (:class:`~faceedit.stage.tuning_face.WarpTuning`), a turned head
(:class:`~faceedit.stage.tuning_face.PoseTuning`), the head's mattes
(:class:`~faceedit.stage.tuning_face.RegionsTuning`), the brows' styles
(:class:`~faceedit.stage.tuning_face.BrowsTuning`), the rest a neutral edit leaves the mouth at
(:class:`~faceedit.stage.tuning_face.RestTuning`), the hair's colours
(:class:`~faceedit.stage.tuning_face.HairTuning`) and an expression's folds
(:class:`~faceedit.stage.tuning_folds.FoldsTuning`, in its own module). The steps and painters get the record
(or its group) as an argument; a painter called without one takes the defaults. A stage
checkpoint stores the record in its config (``tuning``, written by the stage's trainer); a
checkpoint without it, or without some of its fields, takes the defaults below. The evidence for
each value is in ``docs/stage-tuning.md``.

No numpy or torch: the command line reads the defaults (:attr:`LightTuning.strength`) before
any model loads.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from faceedit.edits.light import LIGHT_STRENGTH
from faceedit.stage.tuning_face import (
    BrowsTuning,
    HairTuning,
    PoseTuning,
    RegionsTuning,
    RestTuning,
    TurnedTuning,
    WarpTuning,
)
from faceedit.stage.tuning_folds import FoldsTuning
from faceedit.stage.tuning_lids import LidsTuning
from faceedit.stage.tuning_lips import LipsTuning
from faceedit.stage.tuning_mouth import MouthTuning, TextureOctave

R = TypeVar("R")


@dataclass(frozen=True)
class EditTuning:
    """How one face's edit cuts and carries the mouth (:mod:`faceedit.stage.steps`)."""

    #: A smile taken away raises the teeth it carries into a new opening by this share of the
    #: smile's opening, under the relaxing upper lip (times the share of the smile taken).
    teeth_rise: float = 0.6
    #: ... at most so far that this share of the upper teeth it carries stays in sight (the
    #: carried share of the opening's middle column, :func:`faceedit.stage.side_teeth.upper_teeth_share`):
    #: a laugh's teeth fill most of its opening, and the full rise left a sliver of them over a
    #: dark hole (insightface's single_smile made surprised). Set on its wheels' laughs made
    #: surprised: at 0.5 and 0.7 FER read group_five#3's thicker row as happy.
    teeth_kept: float = 0.3
    #: Where a smile is taken away and the mouth stays open, the upper row's ends fall into the
    #: cavity's shadow (:func:`faceedit.stage.row_ends.fade_row_ends`) over this share of its
    #: length at each end ...
    row_ends_share: float = 0.25
    #: ... at the end standing this many times the cavity's luma ...
    row_ends_contrast: float = 3.0
    #: ... and this share of the row's height there (cut from below: shorter side teeth).
    row_ends_narrow: float = 0.5
    #: ... wholly where the upper lip relaxes this much (``teeth_cover``'s share of its own), in
    #: proportion under it: a smile kept or made (happy) leaves its carried row's ends as the photo lit them.
    row_ends_relaxed: float = 0.5
    #: An interior found from colour spanning less than this share of the inner mouth corners
    #: is not the cut (the Face Mesh's inner-lip loop is), whether the mouth opens or closes.
    narrow_interior: float = 0.8
    #: ... and one whose end lies further than this share of that distance inside its corner is carried on
    #: to it (:func:`~faceedit.stage.mouth_steps.interior_cut`): London 083 smiling at JPEG q30 ends 0.22
    #: inside on the left, its dark corner uncut, and made happy its lower lip stood up in the smile as a
    #: pink lump; the world set's other found interiors end 0.003-0.075 inside, 083's at 64-128 px 0.13
    #: (carried on, their corners as dark as the right ones).
    interior_corner_gap: float = 0.1
    #: ... and a closing mouth's found interior whose end lies as far inside its outer corner (48, 54) is eased
    #: out onto it over this share of its arc (:func:`~faceedit.stage.mouth_steps.interior_cut`).
    closing_ends: float = 0.25
    #: The share of the mouth bank's upper teeth under a relaxed upper lip in a wide opening
    #: whose state has no smile (times the smile it lacks).
    teeth_cover: float = 0.4
    #: How far up (inner-corner distances, at the middle) a shown interior is widened before
    #: the mouth closes over it.
    closing_margin_up: float = 0.01
    #: How far down (inner-corner distances, at the middle) it is widened.
    closing_margin_down: float = 0.04
    #: An open mouth that closes where no interior is found from colour (a dark cavity): the
    #: Face Mesh's inner-lip loop is widened this far up (inner-corner distances, at the
    #: middle; the loop lies under the upper teeth) ...
    closing_loop_up: float = 0.12
    #: ... and this far down.
    closing_loop_down: float = 0.04
    #: A move that narrows either eye to under this share of its opening cuts the eyelids.
    eye_closing: float = 0.7
    #: The widest inner-lip gap (eye distances, the 68 points) read on lips that may be closed:
    #: a crease the Face Mesh reads as a parting. Such lips with no interior found, parted no
    #: further and given no smile, are carried by the warp as the photo shows them.
    crease_gap: float = 0.1
    #: A target's own moves that raise the upper lip beside its middle by more than this (eye
    #: distances) keep the target's appearance map off the lips.
    raised_lip: float = 0.05
    #: A target's appearance map that lightens a mid-grey between its mean face's inner lips by at
    #: least this (unit luma, :func:`faceedit.stage.appearance.teeth_lightened`) shows teeth: it
    #: stays off lips the move closes.
    teeth_shown: float = 0.05
    #: A new opening at least this tall for its width (68-point 62 to 66 over 60 to 64) is shaped
    #: like real open mouths (:func:`faceedit.stage.moves.real_opening`) ...
    open_from: float = 0.25
    #: ... keeping this share of the goal's height beyond it: the expression goal's surprised
    #: opening (0.5 on London faces at 1350 px, ``bench/bench_open_mouth.py``) against real posed
    #: surprise's 0.30 (JAFFE, Yale, ``bench/measure_open_mouths.py``); half of it gives 0.375, an
    #: opening nearer the real ones that still reads as surprise (at 0.30 a wide flat slot, which
    #: classifiers and a second look take for parted lips) ...
    open_keep: float = 0.5
    #: ... with this share of the gap above the corners' chord at the middle (real: 0.34,
    #: quartiles 0.28-0.37) ...
    above_chord: float = 0.34
    #: ... wholly from ``open_from + open_split_reach``.
    open_split_reach: float = 0.1
    #: A state whose mouth (the face's own identity showing it) opens less than this many eye
    #: distances between the inner lips is a closed mouth: the edit makes the lips meet. The
    #: state read from a smiling face's landmarks under-reads its opening, so removing the
    #: smile's state alone leaves the teeth showing; real neutral photos measure about 0.01.
    lips_closed: float = 0.03
    #: A mouth open tall whose state reads a smile under this (:func:`~faceedit.stage.smile.smile_lift`) is a gasp,
    #: its lower lip and jaw read where dlib sees them (:func:`faceedit.stage.steps.gasps`; docs/stage-tuning.md).
    seen_smile: float = 0.5
    #: A young child's mouth (:func:`faceedit.faces.reading.reads_child`) open this many eye
    #: distances between the inner lips or more shows its inside, its dark and its tongue (as red
    #: as the lips): carried into the edit as the photo shows it, where an adult's lip-red inside
    #: is a crease painted over (babies laughing with open mouths read 0.27 and 0.33, toddlers
    #: with parted lips 0.03-0.06).
    child_open: float = 0.1
    #: A named target whose state smiles (its AU12 at least this share of the mean smile's,
    #: :func:`faceedit.stage.smile.smile_reached`) on a face that already smiles: the face's
    #: smile over the target's from the first value on leaves the mouth's move out in part, from
    #: the second in full (the mouth and the jaw line stay where they are).
    smiling_goal: float = 0.5
    smile_reached: tuple[float, float] = (0.45, 0.75)
    #: A smile taken away flattens the cheeks' shading relief (:func:`faceedit.stage.smile.flatten_cheeks`):
    #: none where it takes under the first of this share of a smile, all from the second ...
    cheek_smile: tuple[float, float] = (0.25, 0.6)
    #: ... this share of the relief ...
    cheek_flatten: float = 1.0
    #: ... between a blur of this many eye distances (finer: the skin's grain, kept) ...
    cheek_fine: float = 0.02
    #: ... and one of this many (broader: the face's colour and light, kept) ...
    cheek_broad: float = 0.15
    #: ... less the band's own mean over a blur of this many (the cheeks keep their light: London HD's real neutral
    #: photos read 0.994 of their smiles' upper-cheek luma, their smiles made neutral 0.951 with it all taken) ...
    cheek_keep: float = 0.2
    #: ... over the cheeks feathered over this many eye distances ...
    cheek_feather: float = 0.05
    #: ... and, for a target other than neutral, over the skin within this many eye distances
    #: of the outer lips and the nose's base.
    cheek_around_mouth: float = 0.25
    #: The source's cheeks where the warp carries them are flattened too, grown this many eye
    #: distances towards its mouth and nose (over the folds beside them, which a laugh made
    #: neutral carries in round the narrower mouth) ...
    cheek_fold: float = 0.1
    #: ... and there the relief down to a blur of this many eye distances (the warp squeezes
    #: the folds it carries in finer than ``cheek_fine``).
    cheek_fold_fine: float = 0.005
    #: Over the skin the warp stretched (:func:`faceedit.stage.smile._stretched`: none where it
    #: stretched it by under the first of these factors, all from the second, read on the field
    #: smoothed over ``cheek_stretch_blur`` eye distances) the relief down to a blur of
    #: ``cheek_stretch_fine`` eye distances: a laugh's creases, drawn across skin a dropped jaw or
    #: a narrower mouth stretched (the skin's pores, finer, stay).
    cheek_stretch: tuple[float, float] = (1.1, 1.4)
    cheek_stretch_blur: float = 0.05
    cheek_stretch_fine: float = 0.01
    #: Round a mouth opened from a laugh (``flatten_cheeks``' ``around_mouth``), the long dark lines left where the
    #: relief was taken lifted (:func:`~faceedit.stage.fold_lines.lift_lines`): about this wide (eye distances) ...
    fold_line_width: float = 0.012
    #: ... curving across this many times the skin's median or more ...
    fold_line_grain: float = 3.0
    #: ... averaged along over, and in pieces at least, this long (eye distances).
    fold_line_length: float = 0.08
    #: ... each alone: such pixels under this share of those about it (a moustache's strands are many; a
    #: fold's own core and the spurs its curve raises across the directions read 0.23-0.30 on a large face).
    fold_line_alone: float = 0.3
    #: ... lifted wholly where it is shallower than the first share of the skin beside it, not from the second (a
    #: moustache's or stubble's strands are deep; a fold's core left by the flattening is faint).
    fold_line_depth: tuple[float, float] = (0.15, 0.3)
    #: ... on skin as light as the upper cheeks (:func:`faceedit.stage.smile._as_light_as_cheeks`):
    #: none under the first of these shares of their luma (a beard's, a moustache's), all from
    #: the second.
    cheek_stretch_skin: tuple[float, float] = (0.6, 0.85)
    #: A beard (:func:`faceedit.stage.beard.beard_hair`): none where the chin's luma (its median
    #: between the lower lip and the chin) is over the second of these shares of the upper
    #: cheeks', all under the first; on a bearded face the flattened cheeks and the corner pockets keep the moved pixels
    #: where they are hair: as dark as its chin (their luma blurred over ``beard_blur`` eye
    #: distances; none from half-way to the cheeks') and stranded (their fine relief's RMS over
    #: the skin's on the upper cheeks: none under the first of ``beard_strands``, all from the
    #: second). A moustache and the beard beside the mouth stay hair; a laugh's shade and folds
    #: are flattened as on a shaven face.
    beard_chin: tuple[float, float] = (0.82, 0.88)
    beard_blur: float = 0.05
    beard_strands: tuple[float, float] = (1.5, 2.5)
    #: ... or bearded as far as its chin is stranded: the chin's median fine relief (as ``beard_strands``
    #: reads it) over the upper cheeks' lower quartile, none under the first, all from the second, where
    #: the chin's own (over its luma) is over ``beard_chin_grain``'s (none under the first, all from the
    #: second). On the web's 64 photos (``bench/measure_beards.py``, the photo and the moved face of its
    #: surprised edit): beards 3.5-12.5 times (a grey one, its chin at 0.85-0.89 of the cheeks' luma,
    #: 3.5-6.5), a stubbled or made-up chin 1.9-2.4, a shaven one 0.6-1.9, a retouched face's 2.3-3.6
    #: over its smooth cheeks with a relief of at most 0.017 (beards 0.035 and over).
    beard_chin_strands: tuple[float, float] = (2.6, 3.2)
    beard_chin_grain: tuple[float, float] = (0.025, 0.035)
    #: On a face whose chin is stranded, below the nose's base and above the mouth's corners the flattened
    #: cheeks keep the moustache's dark pixels, stranded or not (:func:`faceedit.stage.beard.moustache`: all
    #: from this many eye distances inside those lines).
    moustache_feather: float = 0.05
    #: Strands read without the chin's verdict (:func:`faceedit.stage.beard.hair_strands`) are hair where
    #: darker than the upper cheeks (luma blurred over ``beard_blur``: all under the first share of theirs,
    #: none over the second) or as far as ``beard_chin`` reads the face bearded. A moustache or stubble reads
    #: 0.4-0.7; a retouched face's lips, nose and fold lines, stranded against its smooth cheeks, 0.9 and over.
    strand_dark: tuple[float, float] = (0.8, 0.9)
    #: ... but the flattened cheeks not within the first of these eye distances of the mouth's
    #: outer corners, all from the second: a laugh's creases at its corners are dark and, on a
    #: small face, as fine as a beard's strands (Yale's laughs made neutral kept them).
    beard_corner: tuple[float, float] = (0.1, 0.25)
    #: A smile taken away on a face whose ``cheek_fine`` eye distances are under this many px (a
    #: small face: the flattening takes the skin's grain too): the grain it took, finer than a
    #: blur of this many px, is drawn again (:mod:`faceedit.stage.cheek_grain`) ...
    cheek_grain_px: float = 1.5
    #: ... at this share of its strength (0: none), read over this many eye distances about each
    #: pixel ...
    cheek_grain: float = 0.85
    cheek_grain_reach: float = 0.1
    #: ... as white noise blurred this many px ...
    cheek_grain_across: float = 0.5
    #: ... down to this many eye distances below the nose's tip ...
    cheek_grain_below: float = 0.0
    #: ... and this many where the mouth opens (a laugh made surprised: the skin round the new
    #: opening flattened too, :func:`~faceedit.stage.smile.flatten_cheeks`' ``around_mouth``).
    cheek_grain_below_open: float = 1.0
    #: ... but not within this many eye distances of the moved outer lips.
    cheek_grain_lips: float = 0.1
    #: A smile taken away by a move to neutral closes (a grey morphological closing, this many eye
    #: distances wide) the skin within ``cheek_wing_reach`` eye distances of the line from each
    #: nose wing to its mouth corner (:func:`faceedit.stage.smile.wing_lines`): the laugh's
    #: folds squeezed there into thin dark lines by the narrower mouth, under the flattened cheeks'
    #: finest blur, ...
    cheek_wing_close: float = 0.07
    #: ... (0: none), the lines read on the skin blurred by this many eye distances (finer, the
    #: skin's grain, stays on the lifted skin) ...
    cheek_wing_grain: float = 0.01
    #: ... within this many eye distances of those lines.
    cheek_wing_reach: float = 0.08
    #: A smile taken away by a move to neutral eases its nasolabial folds into resting ones
    #: (:func:`faceedit.stage.rest_folds.rest_folds`): within this many eye distances of each
    #: fold's course (0: none) ...
    rest_fold_reach: float = 0.1
    #: ... the valley under a grey closing this many eye distances wide of the skin blurred by ...
    rest_fold_close: float = 0.1
    #: ... this many (finer, the skin's grain, stays) is laid back blurred by this many ...
    rest_fold_grain: float = 0.0
    rest_fold_soft: float = 0.012
    #: ... (at least this many px: a small face's folds, a pixel or two wide, spread too) ...
    rest_fold_soft_px: float = 1.3
    #: ... at this share of its darkness, ...
    rest_fold_keep: float = 1.0
    #: ... the ridge beside it (brighter than the skin on both sides, under the closing's
    #: width: the lit edge of a squeezed fold) with it, at this share.
    rest_fold_ridge: float = 1.0
    #: Each kept where it runs as a line this many eye distances long (a pore, a speck is not a
    #: fold) ...
    rest_fold_length: float = 0.06
    #: ... and less this many times its blur of ``rest_fold_texture`` eye distances (a lone fold
    #: stays; a dense texture, stubble and pores, does not: it is the skin's) ...
    rest_fold_dense: float = 0.8
    #: ... (that blur).
    rest_fold_texture: float = 0.06
    #: A smile taken away (to any target): its own folds, where the warp carried them (round a laugh's
    #: narrower or opened mouth: thin drawn lines from the nose wings round the lips), within this many
    #: eye distances of their courses on the smiling face (0: none), have the same valleys and ridges
    #: lifted, none laid back ...
    laugh_fold_reach: float = 0.2
    #: ... but within this many of the moved mouth's corners (the crease a closed mouth's corner ends
    #: in is its width).
    laugh_fold_corner: float = 0.1


@dataclass(frozen=True)
class EyesTuning:
    """How eyes opened wider keep their irises' size (:mod:`faceedit.stage.eyes`) and a small
    shut eye the warp opened is redrawn (:mod:`faceedit.stage.eye_open`)."""

    #: An eye whose opening (lids apart, middle) grows by this factor or more gets its iris kept.
    opens: float = 1.08
    #: A face whose eyes are under this many of the photo's pixels from corner to corner (the
    #: mean of both) keeps both irises or neither: the astronaut's (17.6 px) had one kept, a pale
    #: ring round the pupil, and one stretched (too little white to read), two eyes unalike. Left
    #: to the warp even where both can be kept, a group photo's eye got a doubled lid line.
    keep_iris_least_px: float = 30.0
    #: A smile taken away lets its raised lower lids down to a relaxed lid's place on the iris
    #: (:func:`faceedit.stage.smile.squint_let_go`): none where it takes under the first of this
    #: share of a smile, all from the second ...
    squint_smile: tuple[float, float] = (0.3, 0.7)
    #: ... by at most this much (eye distances). An edit that opens the eyes (surprise, fear) lowers
    #: them no further (:func:`~faceedit.stage.moves.hold_lower_lids`): real posed surprises keep the
    #: lid on the iris as their neutral photos do (MediaPipe's points, the lid below the iris's
    #: bottom: JAFFE's 30 surprised photos median -0.009, their neutral -0.006; Yale's 15 -0.021,
    #: normal -0.022), where the stage's plan dropped it 0.034 eye distances (JAFFE's neutral photos
    #: made surprised, ``bench/bench_posed_moves.py``): white all round the iris, a stare.
    squint_reach: float = 0.04
    #: An opened eye's white reaches down to the mesh's lower lid contour under its kept iris as far
    #: as the lower lid came down off the iris, wholly from this share of the eye's width
    #: (:func:`faceedit.stage.eyes.keep_irises`).
    lid_drop_white: float = 0.05
    #: The mesh's lower lid contour lies on the lid's rim: the opening's lower margin is raised by
    #: this share of the lids' distance.
    lower_lid_raise: float = 0.1
    #: The smallest iris radius searched (eye widths, corner to corner) ...
    iris_radius_min: float = 0.17
    #: ... and the largest.
    iris_radius_max: float = 0.26
    #: Where the iris model gives the iris's radius and the best circle's is further than this
    #: share from it, the search is within this share of it.
    iris_model_spread: float = 0.12
    #: ... and where it gives the iris's centre, the circle's centre is searched within this share
    #: of its radius of it.
    iris_model_shift: float = 0.05
    #: A young child's iris (:func:`faceedit.faces.reading.reads_child`) is larger for its eye
    #: than the iris model reads it (0.27-0.38 of a baby's eye width where the model gives
    #: 0.25-0.27): searched up to this share of the eye's width ...
    child_iris_radius_max: float = 0.38
    #: ... within ``child_iris_spread`` of this many times the model's radius.
    child_iris_model: float = 1.15
    child_iris_spread: float = 0.3
    #: Eyes behind sunglasses (:mod:`faceedit.stage.lenses`): a lens is looked for within this
    #: half box round each eye's middle (eye distances: across, down) ...
    lens_box: tuple[float, float] = (0.5, 0.42)
    #: ... its pixels darker than this share of the cheek's median luma (beside the nose's wing) ...
    lens_dark: float = 0.5
    #: ... the mask closed by this share of an eye distance and softened by ``lens_soft`` px.
    lens_close: float = 0.04
    lens_soft: float = 1.0
    #: Bright spots in the eye narrower than this (eye widths: a catchlight) are taken off
    #: before the iris is searched (beside one the iris's own dark read as the limbus: a
    #: laughing eye's iris was found a third of its width off, in the dark corner).
    catchlight: float = 0.1
    #: An opened eye's iris is drawn from its rings' median colours, those beyond this share of
    #: its radius no lighter than the ring there.
    limbus_from: float = 0.6
    #: ... and where the source hides a ring (under a squinting lid) from its own pixels at the same
    #: radius turned to the nearest angle the source shows it (:func:`faceedit.stage.eyes.iris_around`):
    #: seen where the visible eye's soft coverage is at least this.
    iris_around_sure: float = 0.8
    #: An opened eye's iris edge is blurred as the source's shows it, by at most this many radii
    #: ...
    iris_blur_max: float = 0.15
    #: ... and the white is drawn where the warp stretched the source's dark limbal ring: out to
    #: where its edge rises this share of the way from the iris's luma to the white's ...
    limbus_rise: float = 0.8
    #: ... at most this many radii.
    limbus_reach_max: float = 1.35
    #: The white drawn by its place along the eye: the source's visible white's luma in this
    #: many stretches from corner to corner (darker toward the corners) ...
    white_bins: int = 6
    #: ... over its whole white's, at least this (a lash or the lid's shadow over a corner).
    white_corner_least: float = 0.8
    #: The white of the eye drawn where a row of it ends in a lash or the lid's skin: its own
    #: colour times this (it lies in the lid's shadow there; :mod:`faceedit.stage.gaze`).
    white_shade: float = 0.85
    #: The white of the eye drawn where the warp stretched the iris or the lid's shadow is as
    #: light, against the white expected there, as the white around it: read this many iris
    #: edge blurs beyond it (past the stretched limbal ring's tail) ...
    white_clear: float = 2.0
    #: ... on the pixels at least this share of the expected white's luma (a lash, the lid's
    #: skin are not the white), no darker than that.
    white_least: float = 0.7
    #: ... and at least this share of the white expected there (by its place along the eye and in
    #: the lid's shadow): a small eye's white read beside the stretched iris holds the limbal
    #: ring's tail and the lids' shadow (the astronaut's 0.85 drew a grey ring round her iris).
    white_ratio_least: float = 1.0
    #: The white's grain (:func:`~faceedit.stage.eyes.white_grain`) at most this share of its
    #: luma: a small eye's "white" holds JPEG noise and the lashes' steps (the astronaut's 0.14
    #: speckled the white round her kept iris; 1350-px London whites read 0.02-0.065).
    white_grain_most: float = 0.06
    #: The kept iris and the white drawn round it are blurred by what the photo's own blur
    #: (:func:`~faceedit.stage.blur_reading.edge_blur` of the eye's box) adds to the drawing's, where that is over this
    #: (a Gaussian's sigma, px; the photo's blur read beyond what a sharp drawing reads,
    #: :data:`~faceedit.stage.blur_reading.FILL_BLUR`). Drawn sharp in a photo blurred by 2.5 px at 512,
    #: the white where the stretched iris was stood as a light ring round a dark disc: on 6 training
    #: London faces so blurred made surprised (001-004, 006, 007), the radial luma's peak at the
    #: iris's edge over the white beyond it, median 4.1 levels (up to 38), now -1.2 (up to 10.3).
    soft_least: float = 0.3
    #: The upper lid's shadow over an opened eye's drawn white and kept iris, cast from where the lid now is
    #: (:func:`~faceedit.stage.eyes.lid_shade`): its darkest share at the lid ...
    lid_shadow: float = 0.55
    #: ... and its Gaussian's sigma under it (eye widths; London HD's open eyes read 0.42, 0.49, 0.64, 0.80,
    #: 0.88 of their lit white 0-0.02, -0.04, -0.06, -0.08, -0.10 eye widths under the lid,
    #: ``bench/measure_lid_shadow.py``); the kept iris is read from one of it under the source's margin (none within half).
    lid_shadow_reach: float = 0.045
    #: An opened eye's kept iris read out of its lid's shadow in the source
    #: (:func:`~faceedit.stage.eye_shadow.read_iris`): a pixel of its upper half is read where its luma is at least the first share of its lower half's at its
    #: distance from the centre (after its row's lift), whole from the second (a lash is not) ...
    iris_lit: tuple[float, float] = (0.6, 0.85)
    #: ... a row of the upper half lifted to the lower half's light by at most this (a lid's shadow; what stays
    #: darker is lashes, read from elsewhere) ...
    iris_lift_most: float = 1.6
    #: ... a glint this many times as light as the ring at its distance or more (half of it from 0.25 less): not
    #: read round the ring nor mirrored (a catchlight spread round it drew an arc over the pupil), copied where it is
    #: ...
    iris_glint: float = 1.5
    #: ... and under a top still in shadow the lower half mirrored from these shares of the radius (none at the
    #: first, whole from the second: nearer the centre the mirrored rows under a low lid drew a dark bar across the
    #: pupil; read round the ring instead, the top drew even arcs).
    iris_mirror_from: tuple[float, float] = (0.45, 0.6)
    #: What the mirror or the reading round the ring gives kept where at least the second share of the ring's
    #: own luma at its radius, none of it at the first or darker (a pupil: a centre read a little off the pupil
    #: mirrored it, or read it round the ring, above it as a second pupil; web img44 made surprised).
    iris_pupil_dark: tuple[float, float] = (0.45, 0.65)
    #: An opened eye's upper lid margin: the source's pixels within this much (eye widths) of
    #: the lid are kept as warped; below it, above the iris's middle, the eye's white is drawn.
    lid_margin: float = 0.03
    #: An iris moved by the gaze (:mod:`faceedit.stage.gaze`): the iris found is refilled with
    #: white out to this many of its radii (its dark limbal ring).
    old_iris: float = 1.15
    #: The eyeball a moved iris shows between the mesh's lid margins: the upper margin lowered
    #: by this share of the lids' distance (it runs along the lashes' roots, over the lid's rim)
    #: ...
    shown_upper: float = 0.15
    #: ... and the lower one lowered by this (it lies a little inside the visible white).
    shown_lower: float = 0.08
    #: The white beside a refilled row is read over this share of the eye's width on each side
    #: ...
    white_read: float = 0.08
    #: ... this far from the refill (off the iris's dark rim) ...
    white_gap: float = 0.02
    #: ... as its pixel of this luma rank (0..1: above the median, off the lashes' shadows).
    white_rank: float = 0.7
    #: The upper lid's edge where the photo shows white above the iris
    #: (:mod:`faceedit.stage.lid_edge`), read in columns across the eye: a white run starts
    #: within these shares of the iris's top above its centre (the iris model's radius is
    #: under-read by up to 8 % on a wide-open eye) ...
    lid_white_start: tuple[float, float] = (0.75, 1.25)
    #: ... a sample is dark (the iris, the lashes) under this share of the way from the iris's
    #: luma to the white's (the white above a raised lid's iris lies in its shadow: 0.55-0.6 of
    #: luma against 0.7-0.75 beside the iris, the stage's surprised edits of London 001 and 009)
    #: ...
    lid_dark_share: float = 0.35
    #: ... and a light one white when it is no warmer (red over blue, per luma) than the white
    #: beside the iris by more than this (the lid's skin is: London's 0.2-0.4) ...
    lid_white_warmth: float = 0.1
    #: ... the white beside the iris (the lightest fifth of the samples 1.1-1.8 radii beside
    #: its centre) no warmer than this, or the eye shows no white to read ...
    lid_white_warmest: float = 0.2
    #: ... and the run ends in the lashes' dark within this many eye distances above the points'
    #: lid; the points rise at most this far onto it.
    lid_edge_reach: float = 0.06
    lid_edge_most: float = 0.05
    #: A lid point's edge is read on the columns within this many iris radii of its own ...
    lid_edge_near: float = 0.15
    #: ... of those within this many of the iris's centre (beside the iris the white run starts
    #: within 0.3 radii of the centre's height).
    lid_edge_span: float = 1.5
    #: A small shut or downcast eye the warp opened, redrawn (:mod:`faceedit.stage.eye_open`): eye
    #: widths (corner to corner, px) over which the redraw fades out: whole up to the first (a group
    #: photo's faces: 15-25 px), none from the second (a 1350-px portrait's: about 110 px).
    shut_small_px: tuple[float, float] = (28.0, 40.0)
    #: An eye whose lids are closer than this share of its width is shut or cast down (open eyes:
    #: 0.25-0.42 on a group photo's faces; a laughing squint 0.12, lids cast down 0.07-0.13).
    shut_aperture: float = 0.15
    #: Eyes both shut and wider than this (px of the photo's own) stay shut under a target that
    #: opens eyes (:func:`~faceedit.stage.eye_open.held_shut`): the redraw's eyeball, lit and without
    #: an iris's detail, read as a ghost's ring from 20 px (Yale's sleepy faces at 20-23, sleeping
    #: newborns at 20-24); the group photos' shut and downcast eyes it opens are 15-18 px.
    shut_hold_px: float = 19.0
    #: The lash band: round the lids' line, a column's darkest under this share of the lid skin's
    #: luma; its extent where it is darker than half-way from that to the skin's.
    shut_lash_dark: float = 0.75
    #: The band's reach above and below the lids' line (eye widths) searched, and its thickness
    #: kept at most ...
    shut_lash_reach: float = 0.2
    #: The eyeball's white: its luma over the lid skin's (read by
    #: :func:`faceedit.stage.mouth.sclera_colour` on the open eyes of insightface's group photo,
    #: 97-134-px faces: 0.8, 0.89, 1.6) ...
    shut_white_over_skin: float = 0.85
    #: ... its chroma over the skin's (there 0.59, 0.65, 1.61: a small photo's whites take its cast).
    shut_white_chroma: float = 0.9
    #: The upper lid's shadow on the eyeball (share of luma) and its reach (eye widths).
    shut_lid_shadow: tuple[float, float] = (0.3, 0.12)
    #: The iris's radius (eye widths; an adult's iris is about 11.7 mm across, the eye's opening
    #: about 29 mm; :func:`faceedit.stage.eyes.find_iris` on the open eyes of insightface's group
    #: photos, 97-134-px faces: 0.14-0.27, median 0.20).
    shut_iris_radius: float = 0.2
    #: The iris's luma over the lid skin's, at least and at most (its colour the lash band's;
    #: there 0.19-0.95, median 0.40).
    shut_iris_luma: tuple[float, float] = (0.3, 0.45)
    #: The pupil: its radius over the iris's and its luma over the iris's.
    shut_pupil: tuple[float, float] = (0.45, 0.5)
    #: The lower lid's margin: its reach (px) and darkening (share of luma).
    shut_lower_margin: tuple[float, float] = (1.0, 0.15)
    #: The drawing's softening (a Gaussian's sigma, px; a small face's photo is no sharper).
    shut_soften: float = 0.6
    #: A small eye opened wide gets its upper lid's margin moved as a line (:mod:`faceedit.stage.lid_move`):
    #: none where its lids' distance grows by under the first factor, wholly from the second ...
    moved_lid_opens: tuple[float, float] = (1.5, 1.7)
    #: ... the margin read at most this share of the source's opening below the upper lid's line.
    moved_lid_band: float = 0.5
    #: ... and an eye of any size whose lids' distance at the middle over its corners' is under the
    #: first (whole) to the second (none): a nearly shut laughing eye (London 013 smiling, 0.21-0.22).
    moved_lid_narrow: tuple[float, float] = (0.22, 0.26)
    #: ... there, where its iris is found, all its opening below the margin one eyeball whose white is
    #: at least this share of the cheek's luma under the eye (London's open eyes at 1350 px: 10th /
    #: 20th / 50th percentile 0.81 / 0.85 / 0.94; a nearly shut one's 0.28-0.83) ...
    narrow_white_over_cheek: float = 0.85
    #: ... in a colour this share of the cheek's chromaticity, the rest grey (none: a cold blue-grey
    #: ball; the white read from the lids' shadow: pink-lilac) ...
    narrow_white_tint: float = 0.3
    #: ... darker toward the corners by up to this share (the cube of the distance from the middle) ...
    narrow_white_corners: float = 0.25
    #: ... with a grain of this share of its luma (1350-px London whites' 0.02-0.065, `white_grain_most`).
    narrow_white_grain: float = 0.03
    #: An opened eye whose iris is kept (:func:`~faceedit.stage.lit_white.lift_white`): where the lighter part
    #: of its opening outside the iris (its luma's 75th percentile) is under this share of the cheek's luma
    #: under the eye (London HD's open eyes at 1350 px: 10th percentile 0.81), all of the opening outside the
    #: iris is lifted there by one gain ...
    open_white_over_cheek: float = 0.81
    #: ... of at most this; light the gain would lift past this share of the photo's white lifted less, on one
    #: line to it (the order of its pixels kept: a corner of white already lit, lifted by the same gain, was
    #: clipped to a glaring flat wedge; web img44 made surprised).
    open_white_gain_most: float = 1.8
    open_white_knee: float = 0.8


@dataclass(frozen=True)
class LightTuning:
    """The relighting's defaults (:mod:`faceedit.stage.shading`)."""

    #: How much a light replaces the photo's own when no strength is asked for (0..1): the edit
    #: request's default (:data:`faceedit.edits.light.LIGHT_STRENGTH`), declared there once.
    strength: float = LIGHT_STRENGTH
    #: Cb and Cr are multiplied by the luma factor f to this power (0 keeps them exactly, 1
    #: scales them with the luma as a grey light on the RGB values would).
    chroma_follow: float = 0.2
    #: ``keep_exposure``: the factor is divided by this percentile of it over the face, so the
    #: lit part of the face keeps about its brightness and the rest goes into shadow (dividing
    #: by the mean instead brightens the lit side by half and washes it out).
    exposure_percentile: float = 70
    #: Ratio limits: a shadow never goes below the first fraction of the old light, a lit side
    #: never above the second multiple.
    ratio_clip: tuple[float, float] = (0.03, 1.5)
    # -- the scene behind the head, found by its colour (shading.background_weight)
    #: The ring of the head region where the head weight is below this ...
    background_ring: float = 0.15
    #: ... a colour spread of at least this many levels ...
    background_floor: float = 3.0
    #: ... smoothed over this many eye distances; ...
    background_smooth: float = 0.02
    #: ... the ring's colour carried this many eye distances (a Gaussian) to the pixels it is
    #: compared with; ...
    background_reach: float = 0.4
    #: ... the ring stops this many eye distances below the chin (negative: above it: a neck
    #: wider than the head region's neck column would put neck skin in the ring, and the skin
    #: beside the column would keep its light, a hard vertical edge down the neck); ...
    background_below_chin: float = -0.5
    #: ... the head region's core shrunk by this many eye distances ...
    background_core_shrink: float = 0.15
    #: ... and the face outline with the forehead this many eye distances above the brows are
    #: never taken for the scene (pale skin near a grey backdrop's colour would otherwise be:
    #: a band across the upper forehead).
    background_forehead: float = 1.1


@dataclass(frozen=True)
class StageTuning:
    """Every tuned value of the stage, by what it tunes."""

    edit: EditTuning = field(default_factory=EditTuning)
    mouth: MouthTuning = field(default_factory=MouthTuning)
    eyes: EyesTuning = field(default_factory=EyesTuning)
    light: LightTuning = field(default_factory=LightTuning)
    lids: LidsTuning = field(default_factory=LidsTuning)
    lips: LipsTuning = field(default_factory=LipsTuning)
    warp: WarpTuning = field(default_factory=WarpTuning)
    pose: PoseTuning = field(default_factory=PoseTuning)
    regions: RegionsTuning = field(default_factory=RegionsTuning)
    turned: TurnedTuning = field(default_factory=TurnedTuning)
    brows: BrowsTuning = field(default_factory=BrowsTuning)
    rest: RestTuning = field(default_factory=RestTuning)
    folds: FoldsTuning = field(default_factory=FoldsTuning)
    hair: HairTuning = field(default_factory=HairTuning)

    @classmethod
    def from_dict(cls, values: Mapping[str, Any] | None) -> StageTuning:
        """The record of a checkpoint's ``tuning`` (:meth:`to_dict`'s form); groups and fields
        it lacks take their defaults. ValueError for a name the record does not have."""
        return _build(cls, values or {}, "tuning")

    def to_dict(self) -> dict[str, Any]:
        """The JSON-able form saved in the checkpoint's config."""
        return dataclasses.asdict(self)


def _build(kind: type[R], values: Mapping[str, Any], where: str) -> R:
    fields = {f.name: f for f in dataclasses.fields(kind)}  # type: ignore[arg-type]
    unknown = sorted(set(values) - set(fields))
    if unknown:
        raise ValueError(f"stage {where}: unknown value {unknown[0]!r}; valid: {', '.join(fields)}")
    given: dict[str, Any] = dict(values)
    for name in list(given):
        f = fields[name]
        default = f.default_factory() if f.default_factory is not dataclasses.MISSING else f.default
        if dataclasses.is_dataclass(default):  # a group of StageTuning
            given[name] = _build(type(default), given[name], f"{where}.{name}")
        elif name == "cavity_texture":
            given[name] = tuple(_build(TextureOctave, v, f"{where}.{name}") for v in given[name])
        elif isinstance(default, tuple):  # JSON gives a list (of numbers, or of names)
            given[name] = tuple(c if isinstance(c, str) else float(c) for c in given[name])
    return kind(**given)
