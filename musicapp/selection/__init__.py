"""Mediated selection (design paper §4.1.2, §4.2.2, §5.4): text and category prompts, "more like
this", recommendations from the session, compliant alternatives for refused references, and
proposed references for parameters the user left open. Similarity only navigates: whatever is
offered is verified and attributed like any reference the user picks."""
