"""Every upper-case module constant of ``faceedit/stage/*.py``, on its side of the rule for tuned values.

The rule is in :mod:`faceedit.stage.tuning`'s docstring and in ``docs/stage-tuning.md``; this
script holds each constant's side and why (:data:`SIDES`) and prints the table that
``docs/stage-tuning.md`` carries under the rule::

    python bench/stage_constants.py            # the table (markdown)
    python bench/stage_constants.py --counts   # constants per side
    python bench/stage_constants.py --check docs/stage-tuning.md   # exit 1 if the doc's table differs

It reads the modules' source (:mod:`ast`), imports nothing of faceedit, and fails on a
constant :data:`SIDES` does not place or a placed name no module has.
"""

from __future__ import annotations

import argparse
import ast
import sys
from pathlib import Path

STAGE = Path(__file__).resolve().parents[1] / "faceedit" / "stage"
BEGIN = "<!-- stage constants: begin (python bench/stage_constants.py) -->"
END = "<!-- stage constants: end -->"

#: The sides, in the rule's order (docs/stage-tuning.md).
KINDS = {
    "X": "not a value",
    "C": "contract",
    "G": "face model",
    "N": "numerical",
    "M": "reading",
    "T": "StageTuning: to move",
}

#: module.NAME -> (side, why).
SIDES: dict[str, tuple[str, str]] = {
    "blendshapes.ARKIT": ("C", "the reader's output names"),
    "blendshapes.LEVELS": ("M", "control steps the curves were measured at"),
    "blendshapes.NOISE": ("M", "the blendshape reader's noise floor"),
    "blendshapes.MAPPING": ("C", "which control expresses which shape"),
    "blendshapes.CURVES": ("M", "measured by bench/bench_blendshapes.py"),
    "blendshapes.BLINK_CURVE": ("M", "measured by bench/bench_blendshapes.py"),
    "blendshapes.BLINK_TOGETHER": ("M", "when two read blinks count as one"),
    "blendshapes._WEAK": ("X", "message text"),
    "blendshapes._OTHER": ("X", "message text"),
    "blendshapes._BACK": ("X", "message text"),
    "blendshapes._SQUINT": ("X", "message text"),
    "blendshapes._UNREAD": ("X", "message text"),
    "blendshapes._LOW": ("X", "message text"),
    "blendshapes.INEXPRESSIBLE": ("X", "messages: why a shape cannot be expressed"),
    "cut_curves.SAMPLES_PER_SEGMENT": ("N", "curve sampling"),
    "lip_edge._THICK": ("G", "the outer lower lip's 68-point indices and where its thickness is measured"),
    "lip_top._INNER": ("G", "the outer upper lip's middle 68-point indices and the inner points its thickness runs to"),
    "lip_top._SIDE": ("G", "the corner-side outer upper-lip points and their share of a neighbour's move (a template)"),
    "cut_curves.MAX_LIP_TURN": ("M", "a found lip curve's sharpest turn that is still a lip edge"),
    "hold.NOSE_BASE": ("G", "the nose base's 68-point indices"),
    "hold.MOUTH": ("G", "the mouth's 68-point indices"),
    "cut_curves.MOUTH": ("G", "the mouth's 68-point indices"),
    "cut_curves.LEFT_EYE": ("G", "an eye's 68-point indices"),
    "cut_curves.RIGHT_EYE": ("G", "an eye's 68-point indices"),
    "cut_fields.TPS_REG": ("N", "spline smoothing in a unit frame"),
    "cut_fields.NEAR_REACH": ("N", "the fast render's nodes measured in full"),
    "cutwarp.CORNER_CELLS": ("N", "round a cut's corners, the side weight read at each pixel (the nodes' reach)"),
    "chin_slide.JAW_LINE": ("G", "the jaw line's 68-point indices"),
    "chin_slide.LIFT_FADE": ("N", "where the region's lookup lift fades in, inside the face (the weight there is 1)"),
    "eyes.MESH_EYES": ("G", "Face Mesh lid contours"),
    "eyes.LM_EYES": ("G", "68-point eye indices"),
    "lid_edge.UPPER": ("G", "the upper lids' 68-point indices"),
    "apple.PROFILE": ("M", "measured by bench/measure_cheek_apple.py"),
    "apple.LIDS": ("G", "the lower lids' 68-point indices"),
    "apple.LID_ROWS": ("C", "which of PROFILE's rows are the lid's"),
    "creases.CODE_SIZE": ("C", "how many numbers a face's code holds"),
    "creases.CODE_SEED": ("C", "the fixed projection's seed (a face keeps its lines)"),
    "creases.STRIP_ROWS": ("N", "rows the pale-strip measure takes down the glabella"),
    "creases.STRIP_MOST": ("M", "a pale glabella's most excess taken off (training London angry: a row's 90th percentile 0.236)"),
    "fine.FINE_BELOW_PX": ("N", "a small face edited on a finer copy (work scale)"),
    "fine.FINE_BELOW_PX_VIDEO": ("N", "a video frame's face edited on a finer copy (work scale)"),
    "fine.FINE_EYE_PX": ("N", "the finer copy's eye distance (supersampling)"),
    "fine.FINE_MOST": ("N", "the finer copy's largest factor (memory and time)"),
    "fine.FINE_MARGIN": ("N", "the area edited on the finer copy (the edit's reach)"),
    "fold_lines.ANGLES": ("N", "directions a line is sought along"),
    "folds.KINDS": ("C", "the fold kinds (rows of folds.safetensors)"),
    "folds.KIND_AUS": ("C", "the FACS units of each fold"),
    "folds.GEOMETRIC": ("C", "kinds whose AUs the landmarks show"),
    "folds.FOLDS_FILE": ("C", "a file name"),
    "folds.PARAMS": ("C", "row names of the fitted tensor"),
    "folds.SMOOTH_VERTICAL": ("G", "kinds whose lines run up the face"),
    "folds.TILE_BUDGET": ("N", "memory per stack"),
    "folds._STATS": ("X", "a cache"),
    "folds._STATS_LOCK": ("X", "a lock"),
    "fringe.FRINGE": ("M", "a fringe's box, its hair's luma over the nose bridge's and how low it hangs (London training 003, 143; 001, 042, 062, 082 bare)"),
    "fringe.DRAGGED": ("M", "hair the warp may drag below a fringe's edge before the column keeps the warp's (London training 003 and 143 angry)"),
    "fringe.BROW_TAIL": ("M", "how far a brow's hairs run past its outer point (JAFFE NE1 KA, YM: the tails read by eye)"),
    "fringe.BROW_OUTER": ("M", "the outer share of a brow where hair meeting it is the temple's (JAFFE MK, KA, YM side hair; by eye)"),
    "gaze.GAZE_X_TRAVEL": ("C", "what gaze_x 1 means"),
    "gaze.GAZE_Y_TRAVEL": ("C", "what gaze_y 1 means"),
    "glasses.HEAD_68": ("G", "mean 3D head (43 London photos)"),
    "glasses.MIRROR_68": ("G", "68-point mirror map"),
    "glasses.POSE_POINTS": ("G", "68-point indices"),
    "glasses.HEAD_CENTRE": ("G", "head ellipsoid"),
    "glasses.HEAD_AXES": ("G", "head ellipsoid"),
    "glasses.SUPERSAMPLE": ("N", "anti-aliasing"),
    "glasses.MIN_EYE_DISTANCE": ("N", "too small a face to draw on"),
    "glasses.RGB": ("X", "a type"),
    "glasses.COLOURS": ("C", "the --glasses colours offered"),
    "glasses.TORTOISE_LIGHT": ("C", "part of the tortoise colour offered"),
    "glasses.STYLES": ("C", "the --glasses styles offered"),
    "hair.LAB": ("C", "the hair colours offered"),
    "hair_tone.QUANTILES": ("N", "the lightness quantiles the hair's curve joins (its sample points)"),
    "hair_tone.PROFILE": ("M", "real hair's lightness quantiles by colour (London faces outside the held-out ones)"),
    "lids.GRAIN_SEED": ("N", "a seed"),
    "lids.LM_CONTOURS": ("G", "68-point indices"),
    "lids.LM_BROWS": ("G", "68-point indices"),
    "beard._LUMA": ("N", "luma weights (a unit)"),
    "cavity._LUMA": ("N", "luma weights (a unit)"),
    "corners._LUMA": ("N", "luma weights (a unit)"),
    "corner_flecks._LUMA": ("N", "luma weights (a unit)"),
    "corner_teeth._LUMA": ("N", "luma weights (a unit)"),
    "lip_rims._LUMA": ("N", "luma weights (a unit)"),
    "cheek_grain.GRAIN_SEED": ("N", "a seed"),
    "cheek_grain.MAD_SCALE": ("N", "a unit: robust deviations per standard deviation"),
    "cheek_grain.CLIP_SPREADS": ("N", "a guard: a crease's line or a fleck not read as grain"),
    "lip_grain.ALONG": ("N", "samples along a lip"),
    "lip_grain.ACROSS_STEP": ("N", "sampling step across a lip (px)"),
    "lip_grain.CLIP_DEVIATIONS": ("N", "a guard: no outlier of the read detail copied"),
    "lip_grain._OUTER": ("G", "the outer lips' 68-point indices"),
    "lip_grain._INNER": ("G", "the inner lips' 68-point indices"),
    "tooth_tips.TOOTH_SHARE": ("G", "a front incisor's share of the front teeth's span"),
    "tooth_tips.TIP_APART": ("G", "no two joints between teeth closer than most of a tooth's width"),
    "tooth_tips.TIP_SNAP": ("M", "how far from a placed gap the photo's own joint is read"),
    "tooth_tips.SIDE_CONTRAST": ("M", "a joint between teeth dark enough to read its sides' softness"),
    "lower_margin._LUMA": ("N", "luma weights (a unit)"),
    "lip_ends.SAMPLES": ("N", "curve sampling"),
    "lips.LEVEL_WIDTH": ("C", "the mouth bank's scale"),
    "lips.CURVE_POINTS": ("C", "the mouth bank's curve samples"),
    "lips.MESH_INNER_UPPER": ("G", "Face Mesh indices"),
    "lips.MESH_INNER_LOWER": ("G", "Face Mesh indices"),
    "lips.MESH_OUTER_UPPER": ("G", "Face Mesh indices"),
    "lips.MESH_OUTER_LOWER": ("G", "Face Mesh indices"),
    "lips.REACH_X": ("N", "a mask's margin"),
    "side_teeth.TEETH_SAMPLES": ("N", "samples per column"),
    "lower_margin.LOOP_SAMPLES": ("N", "samples per column"),
    "lips.LOWER_TEETH_SAMPLES": ("N", "samples per column"),
    "matting.WORK_EYE_DISTANCE": ("N", "a work scale (GrabCut's speed)"),
    "model.MAX_STRENGTH": ("C", "the request's range"),
    "mouth.BANK_WIDTH": ("C", "the mouth bank's scale"),
    "mouth.LIP_RING": ("C", "the bank's descriptors (build = fill)"),
    "mouth.SKIN_RING": ("C", "the bank's descriptors (build = fill)"),
    "mouth.DESCRIPTORS": ("C", "the bank's column names"),
    "mouth.BANK_FILE": ("C", "a file name"),
    "mouth._LUMA": ("N", "luma weights (a unit)"),
    "open_ends._LUMA": ("N", "luma weights (a unit), a fourth 0 for an alpha channel"),
    "mouth.SCLERA_OPEN": ("M", "eyes narrower than this read lid, not white (measured)"),
    "mouth.SCLERA_SKIN": ("M", "eye whites darker than this share of the cheeks are iris and lids (measured)"),
    "mouth.HAIR_RING": ("M", "a mouth's skin ring darker than this share of the cheeks is a beard (measured)"),
    "mouth.SEAM_MIN_SIGMA": ("N", "a line's footprint on the photo's pixels"),
    "mouth.SEAM_EXACT_SIGMA": ("N", "when a distance is computed exactly"),
    "upper_lip.UPPER_LIP_TAPER": ("G", "a closed upper lip's thinning into the corners"),
    "upper_lip.UPPER_LIP_THIN": ("G", "how much thinner than a closed lip an upper lip is drawn whole"),
    "mouth_steps.OWN_TEETH_LEAST": ("G", "the share of a smile's new opening its own carried teeth fill under which the bank paints it whole"),
    "mouth.SEAM_BLUR_REACH": ("N", "where the photo's blur about the seam is read (share of the corner distance)"),
    "mouth.SEAM_DARK_PERCENTILE": ("M", "the lips' own dark the small seam's colour is read from"),
    "seam_course._LUMA": ("N", "luma weights (a unit)"),
    "seam_course.COURSE_STILL": ("N", "a shift too small to resample the pixels for (px)"),
    "seam_squeeze._LUMA": ("N", "luma weights (a unit)"),
    "mouth_bank._LUMA": ("N", "luma weights (a unit)"),
    "outline.PROFILE": ("N", "samples of the chord's profile the smoothing runs on"),
    "moves.LID_PAIRS": ("G", "68-point indices"),
    "moves.BROW_EYES": ("G", "68-point indices"),
    "brow_band.BROW_MIDDLES": ("G", "68-point indices"),
    "brow_space.SPACES": ("G", "68-point indices"),
    "moves.WINK_CORNER": ("C", "what wink_left / wink_right 1 moves (a control's move, like aaa's)"),
    "moves.WINK_BROW": ("C", "what wink_left / wink_right 1 moves (a control's move, like aaa's)"),
    "moves.GAZE_LID": ("C", "what gaze_y 1 moves (a control's move, like aaa's)"),
    "moves.GAZE_LOWER_LID": ("C", "what gaze_y 1 moves (a control's move, like aaa's)"),
    "moves.TARGET_CONTROLS": ("C", "what the wink and sleepy targets are"),
    "moves.GAZE_DOWN_LIDS": ("C", "what gaze_y -1 closes (the iris's travel, GAZE_Y_TRAVEL)"),
    "moves.JAW_DROP": ("C", "what aaa 1 means"),
    "jaw_line.JAW_SMOOTH": ("M", "the jaw move's smoothing, least within real moves' kinks (measured)"),
    "lip_drop.UPPER_DROP_FROM": ("M", "a neutral edit's upper-lip drop made whole (measured)"),
    "lip_drop.UPPER_DROP_KEEP": ("M", "the share of the drop beyond it kept (measured)"),
    "lip_drop.UPPER_SHARE": ("G", "the outer upper lip points' shares (a template)"),
    "moves.JAW_SHARE": ("G", "the jaw points' shares (a template)"),
    "moves.MOUTH_AND_JAW": ("G", "68-point indices"),
    "moves.OPEN_SHARE": ("G", "the lip points' shares (a template)"),
    "moves.OPEN_SHARE_LOWER": ("G", "the lip points' shares (a template)"),
    "moves.TARGET_MOVES": ("C", "what each named target is"),
    "moves.HAPPY_LOWER_LIFT": ("C", "what happy is (its lower lip and chin)"),
    "moves.HAPPY_CORNER_LIFT": ("C", "what happy is (its mouth corners)"),
    "moves.HAPPY_CHIN_SHARE": ("G", "the chin's share of the lower lip's lift (a template)"),
    "moves.SURPRISED_BROWS_DOWN": ("C", "what surprised is (its brows raised as real surprises' are)"),
    "moves.SURPRISED_MOUTH_DROP": ("C", "what surprised is (its mouth opened downward)"),
    "moves.ADDED_MOVES": ("C", "what each target is beyond its line (a structural choice: not read)"),
    "rest.UNFROWNED": ("C", "which named targets have no frown of their own"),
    "row_ends._LUMA": ("N", "luma weights (a unit)"),
    "moves.MOVES_OFF_LINE": ("G", "which targets' moves the line fit reads (a structural choice)"),
    "moves.MIRROR": ("G", "68-point mirror map"),
    "moves.OUTER_UPPER": ("G", "68-point indices"),
    "moves.OUTER_LOWER": ("G", "68-point indices"),
    "moves.INNER_UPPER": ("G", "68-point indices"),
    "moves.INNER_LOWER": ("G", "68-point indices"),
    "moves.LOWER_LIDS": ("G", "68-point indices"),
    "moves.EYE_CORNERS": ("G", "68-point indices"),
    "moves.LOWER_RELAXED": ("M", "a relaxed lower lid on the iris, measured on London's neutral photos"),
    "paint._REGIONS": ("X", "a cache"),
    "paint._REGIONS_LOCK": ("X", "a lock"),
    "paint._RGB_TO_YCC32": ("N", "the colour matrix in float32 for cv2.transform"),
    "paint._YCC_TO_RGB32": ("N", "the colour matrix in float32 for cv2.transform"),
    "paint._LUMA_ROW": ("N", "the luma row of the colour matrix in float32"),
    "pose.MAX_DEGREES": ("C", "what pose 1 means"),
    "pose.GRID": ("N", "a field's grid"),
    "pose.INVERSE_STEPS": ("N", "fixed-point iterations"),
    "pose.CHEEK_EDGES": ("G", "Face Mesh indices"),
    "pose.FACE_TOP_BOTTOM": ("G", "Face Mesh indices"),
    "relief.COARSE_BLUR_PX": ("N", "the fast render's coarse grid for broad blurs (how fast, within 45 dB of exact)"),
    "regions.SKULL": ("G", "68-point indices"),
    "regions.GRABCUT_ROUNDS": ("N", "iterations"),
    "regions.GRABCUT_SEED": ("N", "a seed"),
    "regions.STRAND_PX": ("N", "the scale the strands are read at"),
    "regions.STRAND_SURE": ("M", "sure hair's strands over the cheeks' texture (London training locks and bald heads)"),
    "regions.STRAND_BROW": ("G", "the brows' own hairs' band"),
    "regions.STRAND_WALL": ("M", "the head's outline against the wall"),
    "regions.STRAND_AREA": ("M", "a lock's least size (London training stubble)"),
    "regions.SHINE_AREA": ("M", "a ringed hole of the wall's colour under it is the crown's shine (London training 003, 001)"),
    "shading.SHADING_FILE": ("C", "a file name"),
    "shading.GRID_CELLS": ("N", "a map's grid"),
    "shading._MODEL": ("X", "a cache"),
    "small_cavity._LUMA": ("N", "luma weights (a unit)"),
    "small_seam._LUMA": ("N", "luma weights (a unit)"),
    "small_seam.DARK_PERCENTILE": ("M", "the photo's own lips' dark a small seam's floor is read at"),
    "small_cavity.SMALL_OPEN_KNEE": ("N", "the sharpness of a small open mouth's floor at the photo's black"),
    "skin.TONES": ("C", "the skin tones offered"),
    "state.SHAPE_NOISE": ("M", "the state fit's noise (held-out truth)"),
    "state.INNER_LIP_PAIRS": ("G", "68-point indices"),
    "state.STATE_CLIP": ("N", "a clip in standard deviations"),
    "state.LINE_SCALE": ("M", "the state fit's prior on targets' lines"),
    "state.LINE_TARGETS": ("C", "targets with a line in the fit"),
    "state.JAW_NOISE": ("M", "the state fit's jaw noise (measured)"),
    "state.FRAME_POINTS": ("G", "68-point indices"),
    "state.MEDIAPIPE_IDENTITY_SPREAD": ("M", "the state fit's prior for MediaPipe"),
    "state.UPPER_LIDS": ("G", "68-point indices"),
    "state.LID_RELAXED": ("M", "reading a lid's raise (measured)"),
    "state.LID_RAISED_FROM": ("M", "reading a lid's raise (measured)"),
    "state.LID_RAMP": ("M", "reading a lid's raise"),
    "state.BROWS": ("G", "68-point indices"),
    "state.BROWS_PER_LID": ("M", "the brows' raise with the lids' (measured)"),
    "state.AU_STEPS": ("N", "Gauss-Newton steps"),
    "state.KEEP_AU_WEIGHT": ("N", "the solver's hold on other AUs"),
    "state.AU_DAMPING": ("N", "the solver's damping"),
    "teeth_few.FEW_EYE_PX": ("M", "set between group_t1's smallest faces (29-32 px between the eyes) and the astronaut's (43 px)"),
    "teeth_few.FEW_CORNER_SPAN": ("M", "the middle half lit: three or four front teeth at a 28-px mouth"),
    "teeth_few.FEW_CORNER_LUMA": ("M", "the lips' dark at a small smile's corners, over the lips"),
    "teeth_look._LUMA": ("N", "luma weights (a unit)"),
    "teeth_tone._LUMA": ("N", "luma weights (a unit)"),
    "teeth_tone.SHADE_TONE": ("M", "real teeth's darker quarter over their brightest per unit of depth (14 London HD training smiles, bench_teeth_tone.py --real)"),
    "teeth_tone.THIN_GAP": ("M", "between fear's thin openings (0.10-0.16 of the corner distance) and surprise's (0.3 and more)"),
    "tooth_steps._LUMA": ("N", "luma weights (a unit)"),
    "tooth_steps.TOOTH_WIDTHS": ("M", "upper teeth's widths (8.5, 6.5, 7.5, 7 mm) round the arch in a 50 mm opening"),
    "tooth_steps.JOINT_DARK": ("M", "set by eye on training fearful edits (027, 031, 062) at 3x"),
    "tooth_steps.JOINT_SIGMA": ("M", "a joint about a pixel wide at 1350 px"),
    "tooth_steps.JOINT_TIP": ("M", "teeth touch under the lip, the embrasure opens toward the tips"),
    "tooth_steps.SNAP_DIP": ("M", "a column 7 % under the ramp is a joint already drawn"),
    "tooth_steps.SNAP_REACH": ("M", "about 0.4 of a front tooth: the bank's midline falls 8 px off the lips' on 027"),
    "tooth_steps.STEP_LEVEL": ("M", "steps the row down, not up: the cavity's luma kept (bench_mouth_luma)"),
    "tooth_steps.TOOTH_ROUND": ("M", "set by eye on training fearful edits"),
    "tooth_steps.EDGE_SOFT": ("M", "the photo's teeth's lower edge about as soft"),
    "tooth_steps.TOOTH_YELLOW": ("M", "a little yellow, within real teeth's Cb over their eye whites"),
    "tooth_steps.TOOTH_GRAIN": ("M", "about a photo's grain on teeth at 1350 px"),
    "teeth_look.TEETH_OVER_SCLERA": ("M", "real smiles' teeth over their eye whites (measured)"),
    "teeth_look.TEETH_OVER_SKIN": ("M", "real smiles' teeth over the skin ring (measured)"),
    "teeth_look.TEETH_CHROMA_OVER_SCLERA": ("M", "teeth take the photo's white balance as the eye whites"),
    "teeth_look.TEETH_CHROMA_MARGIN": ("M", "the chroma's margin over the eye whites'"),
    "teeth_look.TEETH_CB_OVER_SCLERA": ("M", "real smiles' teeth's Cb/Y over their eye whites' at most (measured)"),
    "teeth_look.TEETH_CB_MIN": ("M", "real smiles' teeth's least Cb/Y (measured)"),
    "teeth_look.TEETH_CR_UNDER_SCLERA": ("M", "real smiles' teeth's Cr/Y under their eye whites' (10th percentile)"),
    "teeth_look.TEETH_CB_OVER_SKIN": ("M", "real smiles' teeth's Cb/Y over the skin round the mouth at most (measured)"),
    "teeth_look.TEETH_CR_UNDER_SKIN": ("M", "real smiles' teeth's Cr/Y under the skin round the mouth at most (measured)"),
    "teeth_look.TEETH_CR_MAX": ("M", "real smiles' teeth's most Cr/Y (measured)"),
    "teeth_look._CB": ("N", "BT.601 Cb weights (a unit)"),
    "teeth_look._CR": ("N", "BT.601 Cr weights (a unit)"),
    "teeth_look._CR_RGB": ("N", "BT.601's RGB step of one unit of Cr (a unit)"),
    "blur_reading._LUMA": ("N", "luma weights (a unit)"),
    "blur_reading.FILL_BLUR": ("M", "what the blur reading gives a filled interior (measured)"),
    "blur_reading.REBLUR_SIGMA": ("N", "the blur reading's second blur"),
    "blur_reading.EDGE_PERCENTILE": ("N", "which edges the blur reading reads"),
    "teeth_look.SMALL_MOUTH_PX": ("M", "set between the group photos' mouths (30-50 px) and 1350-px portraits' (about 250 px)"),
    "teeth_look.SMALL_TEETH_HEIGHT": ("M", "real small smiles' bright band over the corner distance (measured)"),
    "teeth_look.SMALL_LOWER_SHADE": ("M", "real small smiles' lower row over their teeth (measured)"),
    "teeth_look.SMALL_LOWER_SOFT": ("N", "the lower row's shade step's width"),
    "teeth_look.SMALL_LIP_SHADE": ("M", "real small smiles' first row under the lip over their teeth (measured)"),
    "teeth_look.SMALL_LIP_REACH": ("N", "the upper lip's shadow's reach (a photo pixel)"),
    "teeth_look.SMALL_LOWER_WARM": ("M", "real small smiles' lower row's colour over its luma (measured)"),
    "teeth_look.SMALL_SIDE_SPAN": ("M", "where the side teeth fall into shade (the front 4 teeth lit; real small smiles' side over front)"),
    "teeth_look.SMALL_SIDE_SHADE": ("M", "real small smiles' side teeth over their front ones (measured)"),
    "teeth_look.SMALL_DETAIL_TOP": ("M", "the exemplar's teeth: its brightest twentieth, kept as bright when a small smile's separations are sharpened"),
    "teeth_look.SMALL_DETAIL_BLUR": ("M", "the photo's blur over which a small smile's separations are sharpened less, none from the second (measured: real small teeth's gaps in sharp and soft photos)"),
    "teeth_look.SMALL_EDGE_LIFT_BAND": ("M", "the dark drawn under a small smile's teeth: its height (px, measured)"),
    "teeth_look.SMALL_EDGE_DARK_PERCENTILE": ("M", "the lips' own dark round the opening: what the edge reads"),
    "teeth_look.SMALL_EDGE_DARK_SHARE": ("M", "real small smiles' darkest opening pixel over the lips' own dark (measured)"),
    "teeth_look.SMALL_EDGE_RING": ("M", "where the lips' own dark is read (px outside the opening)"),
    "teeth_look.SMALL_EDGE_UNDER": ("M", "real small smiles' dark under the teeth over the lower lip (measured: the edge line)"),
    "teeth_look.SMALL_EDGE_UNDER_SPAN": ("M", "the corners left out of the dark under the teeth (no dark gaps there)"),
    "teeth_look.SMALL_EDGE_UNDER_MIN": ("M", "the shortest column that gets the dark under its teeth (px; a slit's lowest row is its teeth)"),
    "tuning.R": ("X", "a type variable"),
    "warp.FIELD_GRID": ("N", "a field's grid"),
    "warp.MIN_JACOBIAN": ("N", "a fold-over guard"),
    "warp.INNER_LIPS": ("G", "68-point indices"),
    "warp.WARP_POINTS": ("G", "68-point indices"),
    "warp.UPPER_LIDS": ("G", "68-point indices"),
}


def _named(node: ast.stmt) -> list[tuple[ast.Name, ast.expr]]:
    """(name, value) of each name a module-level assignment binds: ``A = 1``, ``A: float = 1``
    and ``A, B = 1, 2`` (a tuple unpacked into as many names: each its own element; unpacked
    from anything else, each name the whole value)."""
    if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.value is not None:
        return [(node.target, node.value)]
    if not isinstance(node, ast.Assign):
        return []
    pairs: list[tuple[ast.Name, ast.expr]] = []
    for target in node.targets:
        if isinstance(target, ast.Name):
            pairs.append((target, node.value))
        elif isinstance(target, ast.Tuple):
            names = [t for t in target.elts if isinstance(t, ast.Name)]
            value = node.value
            if isinstance(value, ast.Tuple) and len(value.elts) == len(target.elts) == len(names):
                pairs += list(zip(names, value.elts, strict=True))
            else:
                pairs += [(name, value) for name in names]
    return pairs


def constants(stage: Path = STAGE) -> list[tuple[str, str, str]]:
    """(module, name, value's source on one line) of every module-level upper-case name."""
    found = []
    for path in sorted(stage.glob("*.py")):
        text = path.read_text()
        for node in ast.parse(text).body:
            for target, value in _named(node):
                bare = target.id.lstrip("_")
                if bare and bare.isupper():
                    source = " ".join((ast.get_source_segment(text, value) or "").split())
                    found.append((path.stem, target.id, source))
    return found


def _value(source: str) -> str:
    short = source if len(source) <= 40 else source[:37] + "..."
    return short.replace("|", "\\|").replace("`", "'")


def table(stage: Path = STAGE) -> str:
    """The markdown table; ValueError where :data:`SIDES` and the modules disagree."""
    found = constants(stage)
    keys = [f"{module}.{name}" for module, name, _ in found]
    missing = [k for k in keys if k not in SIDES]
    extra = sorted(set(SIDES) - set(keys))
    if missing or extra:
        raise ValueError(f"not placed: {missing}; placed but absent: {extra}")
    rows = ["| module | name | value | side | why |", "|---|---|---|---|---|"]
    for (module, name, source), key in zip(found, keys, strict=True):
        side, why = SIDES[key]
        rows.append(f"| {module} | `{name}` | `{_value(source)}` | {KINDS[side]} | {why} |")
    return "\n".join(rows)


def counts() -> dict[str, int]:
    """Constants per side (:data:`KINDS`' names)."""
    return {KINDS[k]: sum(side == k for side, _ in SIDES.values()) for k in KINDS}


def documented(doc: Path) -> str:
    """The table between the doc's markers."""
    text = doc.read_text()
    return text[text.index(BEGIN) + len(BEGIN):text.index(END)].strip()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--counts", action="store_true", help="constants per side")
    parser.add_argument("--check", type=Path, help="a doc whose table must equal this one")
    args = parser.parse_args()
    if args.counts:
        for kind, n in counts().items():
            print(f"{kind}: {n}")
        return 0
    if args.check:
        same = documented(args.check) == table()
        print("the same" if same else f"{args.check}'s table differs: rerun and paste")
        return 0 if same else 1
    print(table())
    return 0


if __name__ == "__main__":
    sys.exit(main())
