"""ARKit's 52 blendshape names (Apple ARKit's ``ARFaceAnchor.BlendShapeLocation``, the names
MediaPipe's face landmarker, Live Link Face and the ICT FaceKit use), in the order of MediaPipe's
blendshapes model's outputs after its ``_neutral``, with ``tongueOut`` (which that model does not
read) last. The reader (:mod:`faceedit.faces.blendshapes`) and the mapping onto the stage's
controls (:mod:`faceedit.stage.blendshapes`) both name the shapes from here. No numpy or torch.
"""

SHAPES = (
    "browDownLeft", "browDownRight", "browInnerUp", "browOuterUpLeft", "browOuterUpRight",
    "cheekPuff", "cheekSquintLeft", "cheekSquintRight", "eyeBlinkLeft", "eyeBlinkRight",
    "eyeLookDownLeft", "eyeLookDownRight", "eyeLookInLeft", "eyeLookInRight", "eyeLookOutLeft",
    "eyeLookOutRight", "eyeLookUpLeft", "eyeLookUpRight", "eyeSquintLeft", "eyeSquintRight",
    "eyeWideLeft", "eyeWideRight", "jawForward", "jawLeft", "jawOpen", "jawRight", "mouthClose",
    "mouthDimpleLeft", "mouthDimpleRight", "mouthFrownLeft", "mouthFrownRight", "mouthFunnel",
    "mouthLeft", "mouthLowerDownLeft", "mouthLowerDownRight", "mouthPressLeft", "mouthPressRight",
    "mouthPucker", "mouthRight", "mouthRollLower", "mouthRollUpper", "mouthShrugLower",
    "mouthShrugUpper", "mouthSmileLeft", "mouthSmileRight", "mouthStretchLeft", "mouthStretchRight",
    "mouthUpperUpLeft", "mouthUpperUpRight", "noseSneerLeft", "noseSneerRight", "tongueOut",
)
#: The one ARKit shape MediaPipe's blendshapes model does not read.
UNREAD = "tongueOut"
