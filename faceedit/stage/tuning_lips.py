"""How a photo's mouth is read (:class:`LipsTuning`): a group of
:class:`faceedit.stage.tuning.StageTuning` (the rule for which numbers belong here is in
:mod:`faceedit.stage.tuning`'s docstring).

No numpy or torch: the command line reads the stage's defaults before any model loads.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class LipsTuning:
    """How a photo's mouth is read: what its lips show between them and where a cut goes
    (:mod:`faceedit.stage.lips`). Lightness and redness are CIE L* and a* (0..255 as OpenCV
    scales them) unless said otherwise."""

    #: An interior is taken as shown only when it is brighter than the lips around it by this
    #: much: teeth. On closed London lips the colour test alone found an interior in the lips'
    #: crease (darker, less red), and the cut then tore painted teeth into fangs along it.
    min_teeth_lightness: float = 8.0
    #: ... read at this percentile of the interior's lightness: the upper teeth of a laugh over
    #: a dark cavity fill less than half of it (its median lies below the lips; insightface's
    #: single_smile and group_five#0 at 70: 21 and 38 over their lips, London neutral 094 and
    #: 099 a dark slit: -12 and -20).
    teeth_percentile: float = 70.0
    #: Where an edit closes the lips, teeth in shadow (a warm-lit smile's, under its upper lip:
    #: their lightness at that percentile under the lips', web img41 at -15, kept as a row between
    #: the closed lips) are taken as shown too where the interior
    #: at the first percentile is the second brighter than the lips (web img41 16, London
    #: smiles' teeth 17-52; closed lips' inner sheen 8-13, London neutral 026 and 119, smiling
    #: 086 and 131) and its pixels as light as the lips' median or lighter are less red than the
    #: lips' median by the third (CIE a*, OpenCV's scale).
    shadowed_teeth: tuple[float, float, float] = (90.0, 15.0, 6.0)
    #: A smile an edit takes away and whose lips it closes, or whose mouth it reshapes for a target
    #: other than neutral (:mod:`faceedit.stage.corners`): its dark corner pockets are looked for this far from each outer lip corner (eye distances) ...
    pocket_reach: float = 0.13
    #: ... at pixels under this share of the skin's luma around the corner (the median of the ring
    #: from 1.2 to 2 reaches off it, outside the lips) ...
    pocket_dark: float = 0.75
    #: ... painted from the first share of the smile taken away (a surprised face's stretched lips
    #: read about half a smile), whole from the second. Set on insightface's group photos made
    #: neutral (FER read their laughs made neutral as happy through those pockets).
    pocket_smile: tuple[float, float] = (0.6, 1.0)
    #: Where the pockets are painted, the lips' red outside their moved outline too
    #: (:func:`~faceedit.stage.lip_spill.clear_lip_spill`): looked for from the first of these off the
    #: outline (eye distances) to the second, against the skin's redness from there to the third ...
    spill_reach: tuple[float, float, float] = (0.02, 0.2, 0.35)
    #: ... on lips at least this much redder than that skin (CIE a*, OpenCV's 8-bit scale: a lipstick's
    #: 19-39 on the web photos, bare lips' 1-15 on them and London's, whose trace is a shade) ...
    spill_contrast: float = 16.0
    #: ... each pixel painted as far as its redness goes from the skin's toward the lips': none
    #: under the first share, all from the second.
    spill_share: tuple[float, float] = (0.3, 0.6)
    #: A smile made neutral whose lips close (:mod:`faceedit.stage.lip_grain`): the photo's own lip
    #: detail, its luma less its Gaussian blur of this (eye distances; at least 0.6 px) ...
    grain_blur: float = 0.006
    #: ... carried at its native scale onto the closed lips' body until it holds this times the
    #: source's variance of it ...
    grain_amount: float = 1.0
    #: ... fading in where a lip is stretched from the first of these times its source height to
    #: the second ...
    grain_stretch: tuple[float, float] = (1.05, 1.3)
    #: ... from the first of these (eye distances) from the line where the lips meet to the second
    #: (off the seam's band) ...
    grain_seam: tuple[float, float] = (0.025, 0.04)
    #: ... the first at least this many px (a small face's seam: 2.5 times its least sigma,
    #: :data:`faceedit.stage.mouth.SEAM_MIN_SIGMA`) ...
    grain_seam_px: float = 2.5
    #: ... and over this share of the mouth's width from each corner.
    grain_corner: float = 0.12
    #: A smile made neutral whose lips close (:mod:`faceedit.stage.corner_flecks`): dark flecks are
    #: looked for along this share of the mouth's width from each outer corner ...
    fleck_span: float = 0.25
    #: ... within this far (eye distances) of that segment ...
    fleck_reach: float = 0.05
    #: ... (a dark piece reaching in there is also looked at whole as far as this many times that:
    #: a pocket above the line, its top past the reach) ...
    fleck_grow: float = 2.0
    #: ... under this share of the lips' line luma (its columns' darkest over the middle half) ...
    fleck_dark: float = 0.92
    #: ... and this share or more under the median luma of a window twice the reach wide.
    fleck_depth: float = 0.12
    #: A dark piece is a fleck, painted over, where shorter along the mouth than this (eye
    #: distances; longer: the line running on to the corner) ...
    fleck_length: float = 0.08
    #: ... at most this many times longer than wide (no piece of a line out of the corner; a piece
    #: a pixel thin counted 2 px wide) ...
    fleck_elongation: float = 2.2
    #: ... and no smaller than a square this wide (eye distances; the pores and stubble round a
    #: real closed mouth at 1350 px).
    fleck_size: float = 0.016
    #: Tooth light a laugh's corners leave on a smile made neutral whose lips close
    #: (:mod:`faceedit.stage.corner_teeth`): looked for along ``fleck_span`` of the mouth's width
    #: from each outer corner within this far (eye distances) of that segment ...
    tooth_reach: float = 0.05
    #: ... inside the outer lips grown by this (eye distances) ...
    tooth_band: float = 0.02
    #: ... at pixels whose red less blue is under this share of the lips' ...
    tooth_red: float = 0.7
    #: ... lighter than the lips' line by this share of its luma ...
    tooth_lighter: float = 0.05
    #: ... and than the median luma of a window twice the reach wide by this share of it (a
    #: piece lighter than the lips or crease round it, not the pale skin past the corner) ...
    tooth_lift: float = 0.08
    #: ... in pieces no longer along the mouth than this (eye distances) ...
    tooth_length: float = 0.08
    #: ... no smaller than a square this wide (eye distances; pale pores round the corner) ...
    tooth_size: float = 0.007
    #: ... within this far (eye distances) of the crease: pixels under this share of the line's luma
    #: (a real lip's glint sits on its body, apart from the crease).
    tooth_touch: float = 0.01
    tooth_crease: float = 1.0
    #: A pixel of the interior a closed mouth's inner-lip loop carries is lip, not interior, when
    #: it is at most this much less red than the lips.
    lip_redness: float = 6.0
    #: A piece of a closed mouth's carried crease narrower than this share of the mouth's width
    #: is not an inside.
    crease_piece: float = 0.25
    #: The crease of closed lips is looked for this share of the mouth's corner distance above
    #: and below the Face Mesh's inner-lip loop ...
    crease_reach: float = 0.1
    #: ... and taken where it is darker than the loop's own line by this (luma, 0..1).
    crease_contrast: float = 0.04
    #: A shown interior's run of upper teeth must start within this share of its height.
    teeth_start: float = 0.4
    #: A smile's row of upper teeth carried into an opening goes on outward through the side
    #: teeth in the mouth's shade: columns whose top holds a run of samples past this share of
    #: the way from the lower lip's lightness to the bright teeth's
    #: (:func:`~faceedit.stage.side_teeth.with_side_teeth`; the front teeth's mark is a half).
    side_teeth_light: float = 0.25
    #: The least a mouth's cut is widened where it is widened at all (photo px, at the middle):
    #: on a small face the relative margins are under a pixel, and the pixels that mix a lip's
    #: edge with the teeth or the dark between them, left outside the cut, met as a dark line.
    cut_min_px: float = 1.0
    #: A closing mouth's lower cut is taken down past the lower teeth: a sample lighter than the
    #: lower lip's middle by this ...
    lower_teeth_lighter: float = 10.0
    #: ... and less red by this is a tooth ...
    lower_teeth_whiter: float = 6.0
    #: ... and so is one only this much lighter ...
    lower_teeth_shaded_lighter: float = 2.0
    #: ... but this much less red (a tooth in the mouth's shade, towards the corners: as light
    #: as the lip there, far less red); ...
    lower_teeth_shaded_whiter: float = 14.0
    #: ... the cut ends this share of the column below the last tooth (and the dark line under it).
    lower_teeth_margin: float = 0.06
    #: Above the upper lip's cut a sample this much lighter than the upper lip and no redder is
    #: a tooth too (teeth under a dark lip of little colour are not less red than it) ...
    upper_teeth_brighter: float = 25.0
    #: ... and the cut goes at most this share of the way to the outer upper lip.
    upper_teeth_most: float = 0.9
    #: A closing mouth's upper cut goes past the gum above its found teeth to the dark line at
    #: the lip's edge, looked for within this share of the way to the outer upper lip.
    upper_gum_most: float = 0.5
    #: Lips the Face Mesh reads as parted are sealed (:func:`~faceedit.stage.lips.lips_sealed`)
    #: where no interior is found and at least this share of the pixels between its inner-lip
    #: lines is lip (as red as the lips less ``lip_redness``, not darker than ``sealed_dark`` of
    #: them) ...
    sealed_lip_share: float = 0.9
    #: ... at most this share is darker than ``sealed_dark`` of the lips' lightness ...
    sealed_dark_share: float = 0.05
    #: ... (that share of the lips' L*) and their middle is no lighter than the lips (no teeth).
    sealed_dark: float = 0.6
    #: ... and no teeth show below the mesh's inner lower lip: :func:`~faceedit.stage.lips.below_lower_teeth`
    #: moves that line less than this share of the way to the outer lower lip (the median over its
    #: middle third; :func:`~faceedit.stage.sealed.teeth_below`).
    teeth_below_share: float = 0.25
    #: A closing mouth whose loop holds lip and one thin dark line is cut on that line, as sealed
    #: lips are (:func:`~faceedit.stage.lips.crease_only`; colour photos): down each column of the
    #: loop's middle third the pixels darker than the first share of the lips' L* number at least
    #: one and, their median, at most the second share of the loop's width; at most the fourth share
    #: of the loop's pixels are lighter than the lips by the third (L* levels) and at least the fifth
    #: share of the rest is as red as the lips (less ``lip_redness``): no teeth. Web img20's closed
    #: smile, its crease deep in shade, reads 2 px (0.018 of 113), 0.096 and 0.98; London 042's 4 px
    #: (0.023), 0 and 1.0; an open mouth's dark (img57) 0.164 and 0.30 (its teeth); teeth between
    #: the lips (img47) no dark line, 0.62 lip.
    crease_line: tuple[float, float, float, float, float] = (0.45, 0.04, 15.0, 0.12, 0.9)
    #: A closing mouth's lower cut goes through the dark its column starts in at most this share
    #: of the way to the outer lower lip.
    lower_dark_most: float = 0.5
    #: A closing mouth's upper cut goes through the cavity its column starts in: samples darker
    #: than this share of the upper lip's L* ...
    upper_cavity_dark: float = 0.5
    #: ... at most this share of the way to the outer upper lip.
    upper_cavity_most: float = 0.3
    #: A smile's hidden lower teeth (``hide_lower``) take in the dark line under them (darker
    #: than the lip, less red than the column's own lip), looked for within this share of the
    #: way to the outer lower lip past the last tooth.
    lower_line_most: float = 0.25
    #: A larger mouth's closed seam (:mod:`faceedit.stage.seam_line`, the rest of
    #: :func:`~faceedit.stage.teeth_look.small_weight`'s share) has a core this wide at full depth
    #: (full width at half depth, eye distances; at least the photo's own blur at the lips) ...
    seam_core: float = 0.01
    #: ... beside it this share of the depth across the seam's width (``seam_width_large``) ...
    seam_shoulder: float = 0.75
    #: ... that width below the line this share of it above (the lower lip lit, the upper lip's
    #: underside in shade).
    seam_below: float = 0.6
    #: The seam's darkness follows the lips' own luma beside it: its target luma times 1 plus
    #: this times the lips' relative detail there (:func:`~faceedit.stage.seam_line.lips_texture`) ...
    seam_texture: float = 2.0
    #: ... read from two cores to this far each side of the line (eye distances) ...
    seam_texture_reach: float = 0.03
    #: ... against its mean along the line over this share of the corner distance.
    seam_texture_span: float = 0.1
    #: The seam's core and shade wave across the line by up to this (eye distances) toward the
    #: lip that is the darker beside it ...
    seam_wave: float = 0.003
    #: ... that difference smoothed along the line over this share of the corner distance.
    seam_wave_span: float = 0.02
    #: Teeth left beside a larger mouth's closed line (:func:`~faceedit.stage.seam_line.clear_remnants`):
    #: looked for within this of the line (eye distances, each side) ...
    remnant_band: float = 0.05
    #: ... a pixel under this share of the lips' median a* ...
    remnant_red: float = 0.85
    #: ... whose hue lies this many degrees or more toward yellow-green of the lips' ...
    remnant_hue: float = 0.0
    #: ... and whose L* is this much over its lip's beside the line (teeth are lighter; pale skin
    #: toward a corner is not).
    remnant_lighter: float = 2.0
    #: A small mouth's closed seam (:func:`~faceedit.stage.teeth_look.small_weight`'s share) takes
    #: this share of the depth a seam narrower than a pixel, or than the photo's blur, loses when
    #: it is widened to it (1: full depth over the widened width), its floor the photo's own lips'
    #: dark read before the warp (:func:`~faceedit.stage.small_seam.own_lips_dark`; 0: neither).
    seam_small_depth: float = 1.0
    #: ... and is widened to the photo's own blur at the lips or this sigma (px), not to
    #: :data:`~faceedit.stage.mouth.SEAM_MIN_SIGMA`: at full depth over a pixel's sigma it is a
    #: band the detector reads as lips apart (a talking clip's closed frames made surprised).
    seam_small_sigma: float = 0.5
    #: ... and is drawn where the lips meet in the pixels (:func:`~faceedit.stage.seam_meet.meet_line`):
    #: the luma valley looked for within this many px across the planned line (0: the line stays) ...
    seam_meet_reach: float = 2.0
    #: ... at least this much darker (the pixels' full scale) than the rows past that reach on both
    #: sides (London training smiles cut to 96 px: 14-29 grey levels of 255 along the mouth's
    #: middle, the astronaut's start 21; a fainter dark is a lip's carried edge: 012's, 5 levels,
    #: 1.2 px under the plan, where the line leaves a thin lower lip) ...
    seam_meet_depth: float = 0.031
    #: ... the move faded out over this share of the mouth at each corner (the corners stay).
    seam_meet_taper: float = 0.15
