"""The shipped methods as the registry knows them, one module per method, named after it: the
options its architecture takes on the command line (:class:`~faceedit.models.options.ModelOption`,
values read from checkpoint headers), the module and function that build it, and its shipped
model (weights, texts: ``weights/manifest.json``; targets, vocabularies and paste settings: the
checkpoint's header).

No module here imports torch or a method's network: listing the models (``faceedit models``) and
checking a command line against them need only these declarations and the checkpoint headers;
the network module is imported when a model of it is built (:class:`~faceedit.models.registry.LazyBuilder`).
"""
