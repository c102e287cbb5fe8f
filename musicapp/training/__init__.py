"""Training the composer on consented scores: the training set, the run, and revocation marks."""
