"""Training-data attribution for the composing engine: which training songs shaped a take.

Three families of scores, each a ``{training item: float}`` (larger = the item did more to make
the generated sequence likely): TRAK (projected per-example gradients and a kernel,
``trak.py``), unlearning (how much each item's loss rises when the take is unlearned,
``unlearning.py``) and the baselines (embedding or n-gram similarity, random,
``similarity.py``). ``api.attribute`` is the one door; ``metrics`` scores any of them against
the retraining ground truth. Torch is imported lazily, inside the functions that need it.
"""
