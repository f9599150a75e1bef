"""Face-analysis networks the methods and the evaluation need, trained by this project on the
shared data and shipped in ``weights/`` (expression / lighting classifiers, identity features,
face parser, quality estimator). They stand in for networks the papers download (OpenFace,
LightCNN, a Helen-trained parser, LEGAN's crowd-rated quality estimator); each model card says
what it is and how well it does."""
