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
mouth and closed lips (:class:`MouthTuning`), how opened eyes keep their irises and moved ones
are refilled (:class:`EyesTuning`), the light's default strength and how a relit head meets
the scene (:class:`LightTuning`), and, in :mod:`faceedit.stage.tuning_face`, how closed lids
are drawn (:class:`~faceedit.stage.tuning_face.LidsTuning`), how a photo's mouth is read
(:class:`~faceedit.stage.tuning_face.LipsTuning`), the regions a warp moves and its
cut curves (:class:`~faceedit.stage.tuning_face.WarpTuning`), a turned head
(:class:`~faceedit.stage.tuning_face.PoseTuning`), the head's mattes
(:class:`~faceedit.stage.tuning_face.RegionsTuning`), the brows' styles
(:class:`~faceedit.stage.tuning_face.BrowsTuning`), the hair's colours
(:class:`~faceedit.stage.tuning_face.HairTuning`) and an expression's folds
(:class:`~faceedit.stage.tuning_face.FoldsTuning`). The steps and painters get the record
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
    FoldsTuning,
    HairTuning,
    LidsTuning,
    LipsTuning,
    PoseTuning,
    RegionsTuning,
    TurnedTuning,
    WarpTuning,
)

R = TypeVar("R")


@dataclass(frozen=True)
class EditTuning:
    """How one face's edit cuts and carries the mouth (:mod:`faceedit.stage.steps`)."""

    #: A smile taken away raises the teeth it carries into a new opening by this share of the
    #: smile's opening, under the relaxing upper lip (times the share of the smile taken).
    teeth_rise: float = 0.6
    #: An interior found from colour spanning less than this share of the inner mouth corners
    #: is not the cut (the Face Mesh's inner-lip loop is), unless the mouth closes.
    narrow_interior: float = 0.8
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
    #: A named target whose state smiles (its AU12 at least this share of the mean smile's,
    #: :func:`faceedit.stage.smile.smile_reached`) on a face that already smiles: the face's
    #: smile over the target's from the first value on leaves the mouth's move out in part, from
    #: the second in full (the mouth and the jaw line stay where they are).
    smiling_goal: float = 0.5
    smile_reached: tuple[float, float] = (0.45, 0.75)


@dataclass(frozen=True)
class TextureOctave:
    """One octave of the cavity's random texture: a seeded random grid, resampled smoothly."""

    rows: int  # grid rows over the mouth's height
    columns: int  # grid columns over the mouth's width
    amplitude: float  # its weight in the log-luma texture


@dataclass(frozen=True)
class MouthTuning:
    """How the mouth bank (:class:`faceedit.stage.mouth_bank.MouthBank`) chooses and paints an
    interior, how a small face's open mouth differs (:func:`faceedit.stage.cavity.small_open`)
    and how closed lips meet (:func:`faceedit.stage.mouth.paint_seam`)."""

    # -- choosing an exemplar (log ratios over these tolerances, squared and summed)
    #: Added to both aspects (height over width) before their log ratio is taken.
    aspect_offset: float = 0.02
    #: Tolerance of an exemplar shorter than the opening (stretched, or filled as wide open).
    aspect_tolerance_stretched: float = 0.1
    #: Tolerance of an exemplar taller than the opening (squeezed).
    aspect_tolerance_squeezed: float = 0.2
    #: Tolerance on the mouth's width in eye distances (a narrower mouth's teeth come out large).
    size_tolerance: float = 0.2
    #: Tolerance on the skin ring's luma.
    skin_luma_tolerance: float = 0.3
    #: Tolerance on the skin ring's chromaticity (distance of luma-normalised RGB).
    skin_chroma_tolerance: float = 0.15
    # -- an opening drawn from the exemplar
    #: An opening this many times taller (aspect) than its exemplar is filled as a wide-open mouth.
    large_ratio: float = 1.35
    #: How far inside its inner-lip curves an exemplar is read (bank px; twice that under the upper lip).
    edge_inset: float = 2.0
    #: Shadow under the upper lip of an opening drawn from the exemplar whole (share of luma).
    lip_shadow: float = 0.12
    #: Darkening of its corners.
    corner_shadow: float = 0.15
    #: Shadow under the upper lip of a wide-open mouth.
    open_lip_shadow: float = 0.3
    #: Darkening of a wide-open mouth's corners.
    open_corner_shadow: float = 0.6
    #: Reach of the shadow under the upper lip (inner-corner distances).
    lip_shadow_reach: float = 0.05
    #: Shade of the inner side of a wide-open mouth's lower lip (share of luma).
    lower_lip_shade: float = 0.15
    #: Its reach (inner-corner distances).
    lower_lip_shade_reach: float = 0.025
    #: Reach of the corners' darkening (share of the mouth's width).
    corner_shadow_reach: float = 0.06
    #: Within this (inner-corner distances) of each corner point an open mouth's
    #: lips close: the interior fades to ``corner_close_tone`` of the lips' local colour at
    #: the corner itself (a soft shadowed point where they meet, not the cavity's black) ...
    corner_close: float = 0.12
    #: ... this share of it.
    corner_close_tone: float = 0.4
    #: An opening whose upper lip covers at least this share of the teeth (a state without a
    #: smile, :attr:`EditTuning.teeth_cover`) is drawn as an open mouth at any height.
    open_cover: float = 0.2
    # -- the lips' inner margins over an open mouth (lip_rims.rims)
    #: The upper lip's rim (inner-corner distances) ...
    rim_upper: float = 0.012
    #: ... the lower lip's ...
    rim_lower: float = 0.05
    #: ... each at most this share of the column's height.
    rim_share: float = 0.5
    #: What an open mouth reads column by column (each column's height, where the lips meet
    #: in a thin gap; where teeth lie under it, the lower rim left out there) is smoothed along
    #: the row over this (inner-corner distances, a Gaussian's sigma): read per column, the
    #: cavity's tone and the rim came and went in steps where a tooth's edge or the row's tips
    #: ended.
    column_smooth: float = 0.03
    #: The rim's luma at the curve (share of the lip's) ...
    rim_edge: float = 0.65
    #: ... and where it fades into the interior.
    rim_deep: float = 0.3
    #: The lower lip's inner margin at the curve (share of the lip's luma): lit, as the wet
    #: margin facing up into the light is in a photograph, falling over ``rim_lower`` into the
    #: interior (darkened to ``rim_edge`` it met the cavity as a dark band round a black hole).
    rim_lower_lit: float = 0.9
    #: ... over this share of its width (``rim_lower``), then falling into the interior.
    rim_lower_flat: float = 0.4
    #: The lower margin is lit from this share of the mouth's width in from each corner, and
    #: at the corners in the rims' shade (``rim_edge``).
    rim_lower_lit_from: float = 0.25
    #: ... and where the opening's column is tall (its height over the corner distance: in
    #: the upper lip's shade below this range's start, lit from its end).
    rim_lower_lit_height: tuple[float, float] = (0.15, 0.3)
    #: The lips' local colour round an open mouth (lip_rims.lip_field) is their pixels beyond
    #: ``rim_outside`` blurred over this (inner-corner distances, a Gaussian's sigma).
    lip_field_spread: float = 0.05
    #: Under an open mouth into which a smile was carried, the lower lip's edge within this
    #: (inner-corner distances) of the opening, below it and beside its steep sides, is taken
    #: to the lips' colour where it reads as teeth (the smile's lower row carried with the
    #: lip: a light line round the cavity).
    teeth_beside_reach: float = 0.06
    #: The lips' edge within this (inner-corner distances) outside an open mouth is lifted to
    #: the lips' local colour (darkened to ``rim_edge`` at the curve) where it is darker (the
    #: parted crease's dark line).
    rim_outside: float = 0.02
    #: A gap between the lips (or between carried teeth and the lower lip) this thin (its
    #: column's height, inner-corner distances) is the lips meeting: their colour at the
    #: closed lips' ``seam_dark``, not the cavity ...
    gap_closed: float = 0.03
    #: ... and from this height the interior shows whole.
    gap_open: float = 0.1
    #: The opening's edge blurred (a Gaussian of this many px, fading out over twice that
    #: inside it) to the focus of the lips round it; 0: as drawn.
    edge_focus: float = 1.0
    # -- a wide-open mouth: upper teeth, a hint of the lower row, the cavity between
    #: A relaxed lip covers the upper teeth from the gum (``teeth_cover`` of them): their lower
    #: part shows down to the exemplar's own incisal edge, over at most this share of the
    #: opening's column below the lip.
    upper_teeth_share: float = 0.25
    #: Each column of the row ends at its own incisal edge over twice this share of the teeth's
    #: depth (a photo pixel at least): the tips' shapes and the notches between them, not a
    #: straight cut (over a long fade the row reads as a translucent arc over the dark).
    upper_teeth_fade_width: float = 0.02
    #: The exemplar's incisal edge (:meth:`MouthBank._incisal`): the first point, from this share
    #: of its ``upper_depth`` below its upper lip, ...
    incisal_min: float = 0.3
    #: ... where the luma falls under this share of its ``teeth_luma`` ...
    incisal_drop: float = 0.55
    #: ... or under this share of the column's brightest above it ...
    incisal_dip: float = 0.7
    #: ... at most this share of its depth down (a lower row touching the upper one).
    incisal_max: float = 1.05
    #: ... blurred over this share of a photo pixel ...
    incisal_blur: float = 0.75
    #: ... no lower than its median over this share of the mouth's width.
    incisal_span: float = 0.12
    #: ... and no higher than that median less this share of its deepest (a notch between tips).
    incisal_notch: float = 0.12
    #: The side teeth, shorter than the front ones, are covered less by this share of the difference.
    incisal_follow: float = 0.5
    #: The incisal edge is this much darker (the translucent tip of a tooth) ...
    incisal_shade: float = 0.15
    #: ... fading in over this share of the front teeth's depth above it.
    incisal_reach: float = 0.25
    #: The bank's upper teeth in a wide-open mouth, in the upper lip's shade: their luma times this
    #: (the shadow under the lip, ``open_lip_shadow``, darkens their top further).
    open_teeth_shade: float = 0.85
    #: The upper teeth's shade (``open_teeth_shade``, the side and incisal shade) takes the
    #: lips' chromaticity to this power times its depth (1 - the luma share kept): teeth in a
    #: mouth's shade are lit by light off the lips and gums, warm, not a darkened grey.
    teeth_bounce: float = 1.0
    #: The side teeth recede along the arch into the mouth's shadow: from this share of the
    #: mouth's width from a corner ...
    side_teeth_from: float = 0.45
    #: ... to this share their luma falls to ``side_teeth_shade`` of the front teeth's ...
    side_teeth_to: float = 0.1
    side_teeth_shade: float = 0.25
    #: ... and a relaxed upper lip covers them over the same span, wholly at this
    #: ``teeth_cover`` (in part below it).
    side_teeth_cover: float = 0.4
    #: Opacity of the lower row's tips.
    lower_teeth_opacity: float = 0.8
    #: The lower row shows at most this share of the exemplar's column height.
    lower_teeth_depth: float = 0.5
    #: The lower row's tips fade out from this share of their depth above the lower lip, over
    #: the same share.
    lower_teeth_fade: float = 0.5
    #: A lower row shallower than this (bank px) is not drawn.
    lower_teeth_min_depth: float = 2.0
    #: The lower row fades with this many times ``teeth_cover`` (a relaxed lower lip covers it).
    lower_teeth_cover_rate: float = 2.0
    #: Under the upper teeth's edge the cavity is lit (the teeth's backs, the palate): this
    #: share of it is the lips' local colour at ``under_teeth_luma`` of their luma ...
    under_teeth_light: float = 0.1
    under_teeth_luma: float = 0.3
    #: ... fading out over this (inner-corner distances) below the edge.
    under_teeth_reach: float = 0.12
    #: The cavity's darkest luma, as a share of the skin's (soft tissue in ambient light).
    cavity_floor: float = 0.02
    #: The cavity's lightest luma, as a share of the skin's: the bank's profile is read no lighter.
    #: Its top rows (the median of real open mouths) hold those mouths' upper teeth and lips at
    #: 0.2-0.46 of the skin; drawn below the bank's teeth they were a grey arc under the row.
    cavity_ceiling: float = 0.08
    #: The cavity profile's columns read at the mouth's sides (its outer columns reach the lips).
    cavity_side_column: float = 0.2
    #: The throat, at the back under the upper teeth, is the mouth's darkest part: the cavity's
    #: luma darkened by this share at the opening's top (v 0) ...
    throat_dark: float = 0.8
    #: ... wholly down to this share of the opening's height ...
    throat_from: float = 0.25
    #: ... fading out down to this share.
    throat_to: float = 0.55
    #: The face's own teeth carried into a mouth that opens without a smile (fear or surprise
    #: from a smile, :func:`faceedit.stage.lip_rims.shade_carried`) stay lit down to this share
    #: of the opening's column below the upper lip ...
    carried_teeth_band: float = 0.15
    #: ... and darken to the cavity's tone over this further share: under a relaxed upper lip
    #: a band of teeth shows, shaded darker toward the inside, not the smile's whole lit row.
    carried_teeth_fade: float = 0.2
    #: Shaded only where the goal keeps at least this share of the face's lip gap (fear from
    #: 114's smile 0.77; the astronaut's smile made neutral x1.5 0.60, where the shaded row
    #: was a black bar between the lips).
    carried_kept_gap: float = 0.7
    #: Columns of the opening shorter than this (px) are shaded in proportion: at the corners the
    #: blend turned from lit to dark between neighbouring pixels (specks: the astronaut at 2.5x,
    #: purse and woo).
    carried_short_column: float = 6.0
    #: Above the carried row, within this (inner-corner distances) of the opening's top, a
    #: relaxed upper lip covers the gums a smile bared: pixels there lighter than the lip's
    #: colour (read as far again above) darkened to it, in the rims' shade (``rim_edge`` at
    #: the row, none at this reach) ...
    carried_gum_reach: float = 0.08
    #: ... and what a smile carried down under the opening (its lower teeth's tips) lies in the
    #: lower lip's shade: no lighter than this share of the lip's luma below it
    #: (:func:`faceedit.stage.lip_rims.shade_below`).
    carried_lower_teeth_luma: float = 0.8
    #: Within this share of the opening's width of each corner the lips close over the carried
    #: row's faded side teeth (:func:`faceedit.stage.lip_rims._close_horns`; 094 made fearful:
    #: black horns a quarter of the width each side, read cut out), the dark a slit closing at
    #: ``carried_horn_close`` of the way to the corner, to ``carried_horn_slit`` of the lips'
    #: colour (mirrored in from ``carried_horn_lip`` widths outside at most), lighter over twice
    #: that to ``carried_horn_tone``; in columns under ``carried_horn_tall`` widths tall.
    carried_horn_from: float = 0.25
    carried_horn_close: float = 0.7
    carried_horn_tone: float = 0.95
    carried_horn_slit: float = 0.3
    carried_horn_lip: float = 0.03
    carried_horn_tall: tuple[float, float] = (0.25, 0.45)
    #: The cavity's log-luma texture, coarse to fine.
    cavity_texture: tuple[TextureOctave, ...] = (TextureOctave(4, 6, 0.3), TextureOctave(8, 14, 0.18),
                                                 TextureOctave(16, 32, 0.1))
    #: The tongue's top at the middle (share of the opening's height from the upper lip) ...
    tongue_top: float = 0.55
    #: ... rising this much more at ``tongue_half_width`` from the middle.
    tongue_curve: float = 0.35
    #: Half the tongue's width (share of the mouth's width).
    tongue_half_width: float = 0.45
    #: Height over which the tongue's top edge fades in.
    tongue_edge: float = 0.06
    #: The tongue shows where the opening's column is at least the first of these tall (share
    #: of the corner distance), whole from the second (lower, the teeth and lip hide it).
    tongue_height: tuple[float, float] = (0.2, 0.4)
    #: The tongue fades in from this share of the mouth's width from a corner ...
    tongue_side_from: float = 0.2
    #: ... to this share.
    tongue_side_to: float = 0.4
    #: Darkening along the tongue's middle groove ...
    groove_depth: float = 0.2
    #: ... its half width (share of the mouth's width) ...
    groove_width: float = 0.025
    #: ... and the height below the tongue's top over which it fades in.
    groove_fade: float = 0.15
    #: The tongue's luma at its back, where it meets the throat's dark (share of the lips') ...
    tongue_luma: float = 0.08
    #: ... rising by this share towards its front, lit through the opening ...
    tongue_luma_rise: float = 0.35
    #: ... over this height below its top.
    tongue_luma_reach: float = 0.4
    #: The tongue's crest (its top, facing the opening) catches a faint light: this share of the
    #: lips' luma added ...
    tongue_crest: float = 0.05
    #: ... at this height below its top ...
    tongue_crest_at: float = 0.08
    #: ... over this height (a Gaussian's width).
    tongue_crest_width: float = 0.06
    #: The share of the cavity's texture on the tongue.
    tongue_texture: float = 0.5
    #: The tongue's colour relative to its luma (R, G, B): a tongue is a red-pink on every face,
    #: redder than the lips around it; its luma is a share of the lips' (``tongue_luma``).
    tongue_rgb: tuple[float, float, float] = (1.45, 0.82, 0.86)
    #: The cavity's chroma over the bank's dark interior's (``MouthBank.cavity_rgb``).
    cavity_saturation: float = 1.5
    # -- colour: the exemplar's colours moved towards the photo's (MouthBank._gains)
    #: The share (a power) of the rings' exposure change applied.
    exposure_power: float = 0.6
    #: The share (a power) of the rings' exposure change applied where it would brighten: no eye
    #: whites check a brightening, and on one studio exposure (the bank's 27 London smiles) the
    #: teeth's luma follows the lip and skin rings' gain with a slope of 0.16 +- 0.09 (the
    #: person's tone, not the photo's light); at ``exposure_power`` four of the five held-out
    #: London faces it brightened got teeth 13-23 % brighter than their own smiling photos'.
    brighten_power: float = 0.2
    #: The exposure gain's lower bound.
    exposure_min: float = 0.45
    #: The exposure gain's upper bound.
    exposure_max: float = 1.8
    #: The share (a power) of the rings' white balance applied without eye whites.
    ring_chroma_power: float = 0.5
    #: The eye whites' weight in the white balance (geometric, against the rings').
    sclera_weight: float = 0.6
    #: A cast (the channel ratios' logs) shorter than this is the person's, not the photo's; the rest of
    #: its length moves the channels.
    chroma_dead_zone: float = 0.05
    #: A channel moves at most this far from the luma gain.
    chroma_limit: float = 0.25
    # -- closed lips
    #: The darkest luma of the seam where closed lips meet, as a share of the lips' beside it.
    seam_dark: float = 0.53
    #: The seam's full width at half depth (eye distances).
    seam_width: float = 0.04
    #: The seam fades out over this share of the mouth's width at each corner.
    seam_taper: float = 0.1
    #: A small face's open mouth (:func:`~faceedit.stage.cavity.small_open`, whole at
    #: :func:`~faceedit.stage.teeth_look.small_weight` 1): its cavity's floor (share of the skin's
    #: luma; a small dark opening in a photo is mixed by the photo's own blur with what is round it
    #: and never reaches a large cavity's black) ...
    small_cavity_floor: float = 0.04
    #: ... its throat darkened by this, not :attr:`throat_dark` (under the upper lip a pixel or two
    #: deep, not a black band) ...
    small_throat_dark: float = 0.5
    #: ... and the lips' rims at this share of the lips' colour at the curve (not :attr:`rim_edge`;
    #: a dark rim a pixel wide drew a black outline), the lower lip's inner side unshaded: it faces
    #: up into the light.
    small_rim_edge: float = 0.9


@dataclass(frozen=True)
class EyesTuning:
    """How eyes opened wider keep their irises' size (:mod:`faceedit.stage.eyes`) and a small
    shut eye the warp opened is redrawn (:mod:`faceedit.stage.eye_open`)."""

    #: An eye whose opening (lids apart, middle) grows by this factor or more gets its iris kept.
    opens: float = 1.08
    #: The mesh's lower lid contour lies on the lid's rim: the opening's lower margin is raised by
    #: this share of the lids' distance.
    lower_lid_raise: float = 0.1
    #: The smallest iris radius searched (eye widths, corner to corner) ...
    iris_radius_min: float = 0.17
    #: ... and the largest.
    iris_radius_max: float = 0.26
    #: The white of the eye drawn where a row of it ends in a lash or the lid's skin: its own
    #: colour times this (it lies in the lid's shadow there).
    white_shade: float = 0.85
    #: The upper lid's shadow over the eyeball: its darkest share ...
    lid_shadow: float = 0.25
    #: ... and its reach below the lid (eye widths).
    lid_shadow_reach: float = 0.06
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
    #: A small shut or downcast eye the warp opened, redrawn (:mod:`faceedit.stage.eye_open`): eye
    #: widths (corner to corner, px) over which the redraw fades out: whole up to the first (a group
    #: photo's faces: 15-25 px), none from the second (a 1350-px portrait's: about 110 px).
    shut_small_px: tuple[float, float] = (28.0, 40.0)
    #: An eye whose lids are closer than this share of its width is shut or cast down (open eyes:
    #: 0.25-0.42 on a group photo's faces; a laughing squint 0.12, lids cast down 0.07-0.13).
    shut_aperture: float = 0.15
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
