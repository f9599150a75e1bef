"""The stage's tuned values for the face around the mouth: closed lids, the warp's regions, the head's turn and the head's mattes; groups of :class:`faceedit.stage.tuning.StageTuning` (the
rule for what is tuned is in that module's docstring, the evidence in ``docs/stage-tuning.md``).

No numpy or torch: plain frozen records with their defaults.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class LidsTuning:
    """How closed and lowered lids are drawn (:mod:`faceedit.stage.lids`) and where they meet
    (:func:`faceedit.stage.moves.lid_closures`). Heights are shares of the eye's tallest opening
    ("eye heights") unless said otherwise."""

    #: Where a blink's lids meet, a share of the way from the lower lid to the upper: a blink is
    #: mostly the upper lid coming down, the lower rising a little.
    meet: float = 0.25
    #: Where a wink's lids meet: where a blink's do (its squeeze is :data:`~faceedit.stage.moves.WINK_BROW`).
    wink_meet: float = 0.25
    #: The lash roots' dark band along the margin ...
    roots: float = 0.15
    #: ... the lashes above it ...
    lashes: float = 0.5
    #: ... the skin below the lower lid that rises with it ...
    below_reach: float = 0.9
    #: ... and the lowest the lid's own skin band (crease to lashes) is taken.
    min_skin: float = 0.2
    #: How far the closed lid's lashes hang below its edge ...
    hang: float = 0.3
    #: ... and the half thickness of its lash line.
    line: float = 0.2
    #: How far above the margin the top of the moving skin may lie ...
    skin_reach: float = 1.2
    #: ... and at most what share of the way up to the brow (the 68 points' brow) that is.
    brow_keep: float = 0.55
    #: The crease's drop, a share of the lid edge's.
    crease_drop: float = 0.15
    #: The crease's shadow, a fold of skin that the closing lid unfolds: this share of it (what
    #: lies below the light of the skin above and below it, carried over it) taken away on a
    #: closed lid, the closure's share on a lowered one (kept, the fold around the closed lid is
    #: a ring that draws an open eye's outline over it) ...
    crease_fade: float = 0.9
    #: ... over this many eye heights each side of the crease.
    crease_width: float = 0.4
    #: The lower lid's margin as the closed eye shows it: this share of the eye's opening there
    #: below the lower margin found, the lid's wet rim and the roots of its lashes between going
    #: under the upper lid's edge (0: the margin found meets the edge, the rim a band under the
    #: lash line, speckled with its highlights on a dark-skinned face, that reads as an eye
    #: still part-open: ``bench/bench_blink.py``, blink=1 on the 36 held-out photos, 32 pass at
    #: 0, 34 at 0.2 with ``crease_fade``).
    lower_rim: float = 0.2
    #: ... and in a wink's squeeze (the eye closing alone: Yale's posed winks show the two lids'
    #: lashes pressed together into one dark line, the lower lid bunched up under it, not rolled
    #: under): its rim meets the upper lid's edge (at ``lower_rim`` dlib, eye by eye, read the
    #: wink's closed eye 0.54 and 0.51 of the photo on neutral 061 and 142, 0.42 and 0.45 at 0).
    wink_lower_rim: float = 0.0
    #: The lid's lightening to its tone rises over this share of the eyeball's dome (0: even) ...
    tone_rise: float = 0.5
    #: ... its lash line no lighter than its middle half's median, this share of the way ...
    lash_even: float = 1.0
    #: ... the lower lid raised under it no lighter than this percentile of the under-eye skin.
    lower_clip: float = 50.0
    #: The raised lower lid's light and colour moved this share of the way to the skin's
    #: ``lower_skin_read`` eye heights below the rise (wholly over the rise's upper half, none at
    #: its foot; never lighter): carried up, the lower lid's sheen and rim read as a pale
    #: grey-lavender smear under the lash line (held-out 061, 126, smiling 022 at 3x); the closed
    #: lid's colour (its ``body_pct`` body colour) moved as far to that skin's, as warm as the
    #: skin below it (126's, its sheen left out, a little greyer: red over blue 0.96 of it) ...
    lower_skin: float = 1.0
    #: ... read this many eye heights below the rise.
    lower_skin_read: float = 0.5
    #: ... both only where that skin is warmer (its red over blue) than what it replaces: wholly
    #: where this share warmer, not at all where no warmer (where the skin below is a lit cheek,
    #: paler and cooler than the lid, 142's and 144's, the lids keep their own colour: moved
    #: there, the lid by the lashes greyer, dlib read 142's closed eye 0.54).
    lower_skin_grey: float = 0.05
    #: The lid's grain is what a blur of 1/``grain_scale`` of its height takes away ...
    grain_scale: int = 30
    #: ... its shading what a blur of 1/``fold_scale`` keeps (between the two lie its folds,
    #: which flatten as it closes).
    fold_scale: int = 6
    #: The drawn grain: white noise blurred this many px (the photo's grain is a pixel or two across).
    grain_across: float = 0.45
    #: How strong the person's own skin laid over the closed lid is (:mod:`faceedit.stage.lid_skin`:
    #: the photo's skin under the eye, its texture in patches; the spectrum of its finest
    #: detail with phases drawn anew is a smooth oval with a stipple at 2x): 1 as strong as it
    #: is there ...
    texture: float = 1.0
    #: ... read from this many eye heights under the lower margin (below the lower lashes) ...
    texture_from: float = 0.35
    #: ... over this many eye heights down and the middle this share of the eye's width, what a
    #: blur of 1/``texture_scale`` of the eye's height takes away (pores, grain and blotches a
    #: few px across; the skin's shading and the lid's folds lie above it) ...
    texture_depth: float = 0.9
    texture_span: float = 0.7
    texture_scale: int = 12
    #: ... clipped at this many of its robust spreads (lashes and a fold's edge in it are not grain) ...
    texture_clip: float = 2.0
    #: ... in patches this many eye heights across (the lower lid's long lines laid whole read
    #: as rings round the closed eye).
    texture_patch: float = 0.4
    #: The closed lid's crease (:mod:`faceedit.stage.lid_lines`): a line this share of the luma
    #: dark at its middle ...
    crease_line_dark: float = 0.06
    #: ... a Gaussian this many eye heights across, at least ``crease_line_px`` px ...
    crease_line_width: float = 0.08
    crease_line_px: float = 0.8
    #: ... the skin above it, folding over it, in its shadow: this share of the line's depth,
    #: fading over this many eye heights up ...
    crease_shade: float = 0.3
    crease_shade_reach: float = 0.15
    #: ... at the photo's crease where that lies between these eye heights above the closed
    #: lid's edge, else at the nearer end ...
    crease_height: tuple[float, float] = (0.6, 1.6)
    #: ... drawn only where the photo's crease was found: none where it lies this share of the
    #: way from the top of what moves down to the lash roots or nearer the top (the top of its
    #: search: no crease found; 137's and 144's lie at 0.03-0.09 of the way), wholly from this
    #: share (014's, 022's, 126's and smiling 142's lie at 0.23-0.43) ...
    crease_found: tuple[float, float] = (0.1, 0.2)
    #: ... it and the wrinkles fading towards the corners over this share of the eye's half width.
    line_taper: float = 0.5
    #: The closed lid's fine wrinkles along it: this share of the luma near its edge (half at the
    #: crease) ...
    wrinkles: float = 0.04
    #: ... white noise blurred this many eye heights along the lid ...
    wrinkle_length: float = 0.4
    #: ... and this many px across it, fading in over this share of the lid up from its edge.
    wrinkle_across: float = 0.6
    wrinkle_clear: float = 0.35
    #: The closed lid's mean luma over that of the photo's skin between the crease and the brow
    #: and under the eye, as this module reads them (read by ``bench/bench_blink.py --tone`` on
    #: dlib's points, blink=1's 72 closed lids 0.938 of that skin in the median, 0.960 at 0.95;
    #: GRID's real blinks 0.928, Yale's posed winks' closed eye 0.922: a touch darker) ...
    tone: float = 0.92
    #: ... and not below this share of the skin under the eye's alone (in a deep-set eye the
    #: skin under the brow is its shadow; GRID's closed lids: 0.83 and more of it) ...
    tone_floor: float = 0.83
    #: ... rising to this where the skin under the brow is the socket's deep shadow (its light
    #: under ``deep[0]`` of the skin under the eye's, wholly from ``deep[1]``: a deep-set eye's
    #: closed lid bulges out of the shadow into the light as its open lid does; lit only to
    #: ``tone_floor`` there, dlib reads 137's closed eyes 0.61 and 0.64 of the photo's; at 0.95
    #: fair 144's, whose brow shades the socket as deep, is a pale band, 1.05 of the skin round it
    #: as ``bench/bench_blink.py --tone`` reads it, 1.02 and 1.00 at 0.9; at 0.85 137's reads 0.52) ...
    deep_floor: float = 0.9
    #: ... nowhere (its light blurred 2 px) lighter than this share of the skin under the eye's
    #: mean light, rising to ``deep_peak`` as the floor rises (lifted over the eyeball's dome to
    #: the under-eye skin's light, 008's and 173's closed lids are pale pink domes; at 0.85 dlib
    #: reads 142's, 096's and smiling 137's closed eyes 0.50-0.71 of the photo's; 0: no cap) ...
    tone_peak: float = 0.9
    deep_peak: float = 1.0
    deep: tuple[float, float] = (0.75, 0.65)
    #: Where the eye is that deep-set, its closed lid darker towards its edge by this
    #: (``edge_dark`` where it is not), its lash line this half thick (``line``) and the lower
    #: lid under it in the lid's shadow by this (``lash_shadow``): the lid turns into the
    #: socket's shadow at its edge (drawn as a lid in the open, 137's closed eyes read 0.52 /
    #: 0.59 of the photo's, ``bench/bench_blink.py``; on fair faces the wider, softer line reads
    #: as a blur).
    deep_edge_dark: float = 0.4
    deep_line: float = 0.3
    deep_lash_shadow: float = 0.4
    #: ... its colour that skin's body colour (each channel over luma, read on the skin's pixels
    #: whose luma lies between the ``body_pct`` percentiles: not the grey-white sheen of its
    #: brightest pixels nor its shadowed folds), tinted as the photo's own lid skin is (its lit
    #: pixels' colour between the crease and the lashes over that skin's), each channel within
    #: this of 1. None: the open lid's lit pixels on a dark face are its sheen, the closed lid
    #: tinted by them a grey oval on 126 and 099 (blink=1 on 126, 099, 061, 144, 014, read on
    #: dlib's points as ``bench/bench_blink.py --tone`` reads them: the lid's Lab chroma over its
    #: L, over the skin's, 0.84-1.16 at 0.06 with the skin's mean colour, 126 and 099 0.84-0.95;
    #: 0.88-1.14 at 0 with its body colour, 126 and 099 0.99-1.14; GRID's closed lids are 1.04,
    #: 0.97, 1.03 of the skin's in R, G, B) ...
    tint_reach: float = 0.0
    #: ... or, where too little of the lid shows, these (R, G, B), within ``tint_reach`` of 1 ...
    tint: tuple[float, float, float] = (1.04, 0.97, 1.03)
    #: ... and the skin's body colour is its pixels' between these percentiles of their luma.
    body_pct: tuple[float, float] = (25.0, 65.0)
    #: Where the closed lid bulges over the eyeball (down the lid from the first share of its
    #: height, wholly from the second) its colour eases from the stretched skin's to that of the
    #: skin around it carried smoothly over it (a deep-set eye's lid, stretched, is all the
    #: brow's shadow, a hooded one's all fold) ...
    lid_ease: tuple[float, float] = (0.0, 0.45)
    #: ... its reach softened by a blur of this many eye heights (where it stops short, the eased
    #: lid is a pale oval with an edge on a fair face, its top straight across at the crease) ...
    lid_soft: float = 0.3
    #: ... where the eye is open this share of its tallest and more ...
    bulge: float = 0.7
    #: ... darker by up to this towards its edge, where it turns away from the light.
    edge_dark: float = 0.25
    #: Under the socket's shadow (the skin just above the closed lid, ``shade_read`` eye heights
    #: of it, darker than the lid) the lid's top lies in that shadow too: this share of the way
    #: to its light at the lid's top, none from ``shade_reach`` of the way down the lid (a
    #: deep-set eye's closed lid is shaded at its top, lit at its middle; lit to its top under
    #: the shadow, a dome ringed by it, it reads as an open eye's outline) ...
    top_shade: float = 1.0
    shade_reach: float = 0.5
    shade_read: float = 0.3
    #: Where it bulges most the lid is lit as the person's lid: this share of the way to the tone
    #: of the photo's lit skin on the lid and under the eye (the skin around the eye alone leaves
    #: a dark almond where the eye was, which reads as an eye still open; all the way, a pale
    #: oval on a fair lid at 3x) ...
    lit: float = 0.7
    #: ... over a dome down the lid (the sine of these half turns at its top and edge: highest
    #: a little above its middle) ...
    lit_dome: tuple[float, float] = (0.15, 0.85)
    #: ... from this many eye heights above the open upper margin (or the crease) to the edge ...
    lit_reach: float = 0.5
    #: ... the skin under the eye read between these eye heights below the lower margin ...
    lit_below: tuple[float, float] = (0.3, 0.9)
    #: ... over the middle this share of the eye's width ...
    lit_width: float = 0.8
    #: ... the tone the mean colour between these percentiles of its luma.
    lit_pct: tuple[float, float] = (50.0, 80.0)
    #: Without a Face Mesh: the 68 points' lids lie inside the visible eye; the upper contour is
    #: set this share of their distance higher ...
    lm_upper_out: float = 0.25
    #: ... and the lower one this share lower.
    lm_lower_out: float = 0.1
    #: The eye's corners beyond its contours (a share of their width each side).
    corner_out: float = 0.14
    #: How far above (and below) the upper contour the lash roots are looked for.
    margin_search: tuple[float, float] = (0.5, 0.05)
    #: The lower margin, the eye's strongest fall in light going down, looked for from this far
    #: above the lower contour to this far below it (only ever lowering the contour).
    lower_search: tuple[float, float] = (0.15, 0.3)
    #: The closed lid's shadow under its edge: a share of the light taken on the eyeball (a lid
    #: part-way down) ...
    shadow: float = 0.45
    #: ... and on the lower lid under the lashes ...
    lash_shadow: float = 0.2
    #: ... falling off over this many eye heights.
    shadow_reach: float = 0.25
    #: The width (px) over which the lid's edges are softened.
    edge_soft: float = 0.8
    #: The photo's lashes at the outer corner, within this share of the eye's width, above the
    #: roots: the skin around them (left, they stand up off the closed lid, an open eye's flick).
    corner_lashes: float = 0.3
    #: ... and past the outer corner, this share of the eye's width, fading out (126's flick
    #: reaches past the corner, beyond the lid's drawn area).
    corner_past: float = 0.1


@dataclass(frozen=True)
class WarpTuning:
    """The regions a warp moves and maps are laid on (:mod:`faceedit.stage.warp`,
    :mod:`faceedit.stage.paint`) and how its cut curves behave (:mod:`faceedit.stage.cut_curves`)."""

    #: The face outline (jaw, brows, forehead) grown by this many eye distances moves freely ...
    region_inner: float = 0.1
    #: ... and the move falls smoothly to exactly zero at this.
    region_outer: float = 0.6
    #: Heights above the brows (eye distances) of the rows of fixed points across the forehead. A
    #: field left to fade from the moved brows to the region's edge moves the hair of a face made
    #: to smile; a spline pinned by one row still bulges between it and that edge.
    forehead_pin: tuple[float, float] = (0.5, 0.8)
    #: (inner, outer) of the region weight, in eye distances from the face outline, over which
    #: the appearance maps are laid onto a face.
    paint_region: tuple[float, float] = (0.0, 0.3)
    #: Height over width of a new mouth opening from which its corners start to be rounded, and
    #: at which they are fully.
    round_aspect: tuple[float, float] = (0.25, 0.45)
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
    #: There, the wedge at each corner the lips hide (the dark beyond the teeth): this share of
    #: the cut's largest gap tall at its corner, out along the corner's ray the second share of
    #: the way to the outer corner or the third share of the corner-to-corner width, the longer.
    plan_wedge: tuple[float, float, float] = (0.7, 1.5, 0.06)
    #: The same wedge where a laugh's teeth are carried into an opening that keeps its width (a
    #: laugh made fearful): shorter, so no lip is painted past the outer corner onto the skin.
    kept_wedge: tuple[float, float, float] = (0.3, 0.9, 0.035)
    #: Both wedges take in a rim above the upper curve: this share of the corner-to-corner
    #: width deep at the corner, none from the second share of the curve's arc from it.
    wedge_rim: tuple[float, float] = (0.012, 0.12)
    #: The lower teeth below a laugh's cut that the lips cover (``cut_warp``'s ``hide_lower``) are
    #: a membrane of the lower side plus the lower lip's fine detail mirrored in straight across
    #: (:func:`~faceedit.stage.cutwarp.mirrored_grain`): read within this share of the lower
    #: lip's thickness below the strip (its middle) of the strip's edge ...
    grain_reach: float = 0.5
    #: ... the detail being what a Gaussian blur of this share of that reach takes away.
    grain_blur: float = 0.5
    #: There, the carried upper teeth narrowed with the mouth: as tall as found up to the first
    #: share of the new opening's half width from its middle, none from the second.
    plan_teeth: tuple[float, float] = (0.5, 0.9)
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
    #: The least share of each 68-point lip's thickness a given mouth cut keeps inside the outer
    #: lip (:func:`~faceedit.stage.cut_curves.inside_outer_lips`).
    lips_inside: float = 0.4
    #: A mouth closing from open meets where its upper lip keeps its thickness, as far as the
    #: source gap (shares of both lips' thickness) is open: none to the first, wholly from the
    #: second (:func:`~faceedit.stage.cut_curves.meeting_drop`); in full from this share of the
    #: chord from each corner (:func:`~faceedit.stage.cut_curves.dropped`).
    lips_opening: tuple[float, float] = (0.1, 0.3)
    lips_drop_reach: float = 0.3


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
    #: Targets that draw a smile's cheek under the eye (:mod:`faceedit.stage.apple`, its profile
    #: measured on smiles: sad's prototype has an AU6 too, not measured) ...
    apple_targets: tuple[str, ...] = ("happy",)
    #: ... and how far along each lower lid (eye distances): the share of the lid's inner half
    #: over which it rises from nothing at the inner corner, and how far past the outer corner it
    #: fades out, and the cheek's mound's sigma across the face about the lid's middle. Set by
    #: looking (the measurement spans the lid's middle ±0.15).
    apple_along: tuple[float, float, float] = (1.0, 0.12, 0.22)


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
