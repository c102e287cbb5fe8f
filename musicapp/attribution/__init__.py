"""Attribution beyond design: the corroborative audit (fingerprints, embeddings, influence
decomposition) and, later, training-data attribution, each scored against ground truth."""
