"""The answer stage: a trained extractive reader (``reader``) and its training (``train``)."""
