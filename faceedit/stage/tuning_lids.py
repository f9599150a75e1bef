"""The stage's tuned values for closed lids: a group of :class:`faceedit.stage.tuning.StageTuning` (the rule for
what is tuned is in that module's docstring, the evidence in ``docs/stage-tuning.md``).

No numpy or torch: a plain frozen record with its defaults.
"""

from __future__ import annotations

from dataclasses import dataclass


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
    #: The lash line's grain (:mod:`faceedit.stage.lid_lashes`): the photo's lash pixels over
    #: their blur along the image's rows (this many eye heights) ...
    line_grain_along: float = 0.15
    #: ... mirrored at the edge, read this many px up from the open eye's margin per px from
    #: the edge (under 1: strands drawn out down the face) ...
    line_grain_up: float = 0.5
    #: ... slanted this many px towards the outer corner per px down ...
    line_slant: float = 0.3
    #: ... clipped to these shares (its gaps lighter, still dark) ...
    line_grain_clip: tuple[float, float] = (0.5, 1.2)
    #: ... raised to this power, on the line's colour (this share of it on the line's upper
    #: half, above ``0.3 roots`` over the edge, all of it from the edge down) ...
    line_grain: float = 1.3
    line_core: float = 0.5
    #: ... and the line's lower half up to this share thicker where the lashes are thick (half
    #: that thinner where they are thin).
    line_ragged: float = 0.3
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
    #: The raised lower lid under a closed one (:mod:`faceedit.stage.lid_below`): levelled this
    #: share of the way to the skin's light carried smoothly over it at the band's top ...
    below_lift: float = 0.5
    #: ... in the band from this many eye heights below where the lids meet ...
    below_from: float = 0.2
    #: ... fading out down to this many.
    below_smooth: float = 1.5
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
    #: ... or than the light around it, blurred over this many eye heights (a glint and a wet
    #: rim's line stand out of it; a broad light patch of skin does not).
    cap_reach: float = 0.3
    #: ... and under the lids' meeting too, towards the corners: wholly at the corner, none this
    #: share of the eye's width in (the inner corner's light skin runs on past it, its grain kept).
    cap_corner: float = 0.11
    #: The raised lower lid and what the caps darken take the colour of the skin next to the
    #: inner corner (read from ``corner_skin[0]`` to ``corner_skin[1]`` of the eye's width
    #: beyond it), their luma kept: ...
    corner_skin: tuple[float, float] = (0.05, 0.25)
    #: ... what the caps darken wholly where darkened this share of its light and more ...
    corner_warm: float = 0.05
    #: ... easing out over this share of the eye's width from the inner corner ...
    corner_reach: float = 0.35
    #: ... softened over this many eye heights (and eased in from the corner over twice it).
    corner_soft: float = 0.1
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
    #: dark at its middle (a closed lid's crease is softened; at 0.06, tapered to the corners over
    #: a lid lighter and smoother than the skin above it, it drew the lid's outline, an oval's
    #: top edge: London 002 at 2x) ...
    crease_line_dark: float = 0.03
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
    #: crease; 0: none drawn). At 0.04 they were horizontal stripes across the whole lid at the
    #: photo's pixels, like a stretched texture (London 002 at 2x; ``bench/measure_closed_lid.py``
    #: reads the row profile's fine energy over the column profile's), not the lid's own skin ...
    wrinkles: float = 0.0
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
    #: ... darker by up to this towards its edge, where it turns away from the light ...
    edge_dark: float = 0.25
    #: ... at least ``closed_dark[0]`` on a lid closed all the way, from ``closed_dark[1]`` of the
    #: way closed (wholly at 1; a lowered lid's stays ``edge_dark``): lit down to a thin lash
    #: line, dlib puts a closed eye's upper points on the lid above it (``bench/bench_blink.py``,
    #: blink=1 on the 12 training faces whose eyes read highest: 7 of 24 closed eyes at 0.5 of the
    #: photo's or more, 5 at 0.4; 3 at 0.45, whose line is thicker than the open eye's by the tests).
    closed_dark: tuple[float, float] = (0.4, 0.8)
    #: Under the socket's shadow (the skin just above the closed lid, ``shade_read`` eye heights
    #: of it, darker than the lid) the lid's top lies in that shadow too: this share of the way
    #: to its light at the lid's top, none from ``shade_reach`` of the way down the lid (a
    #: deep-set eye's closed lid is shaded at its top, lit at its middle; lit to its top under
    #: the shadow, a dome ringed by it, it reads as an open eye's outline) ...
    top_shade: float = 1.0
    shade_reach: float = 0.5
    shade_read: float = 0.3
    #: ... eased in over this many eye heights above the lid's top (begun at the top, the shade
    #: ends in a step: a dark patch with a hard, pixel-stepped upper edge, smiling 004 at 3x).
    shade_soft: float = 0.2
    #: ... the skin's light above read as this percentile of each column's luma (its mean, the
    #: crease's dark line and the brow's lower hairs in it, darkened the top of 012's closed lid
    #: and the skin above it into a dark arc over a pale lid, a goggle's rim: :mod:`faceedit.stage.lid_shade`).
    shade_pct: float = 75.0
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
    #: ... there, from this share of the way from the lid's skin's luma down to the lashes'
    #: darkest to wholly at the second ...
    corner_dark: tuple[float, float] = (0.0, 0.35)
    #: ... and grey: none where this share redder (red over blue) than the lit skin around them
    #: (a smile's crow's feet and the fold's lines are skin in shadow, as red or redder) ...
    corner_red: float = 0.05
    #: ... and past the corner down to this many eye heights below the open eye's margin (the
    #: open eye's lash mass hangs there, a dark smudge off the closed lid's corner).
    corner_below: float = 0.15
