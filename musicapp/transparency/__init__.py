"""Certificate-Transparency-style Merkle log hashing (RFC 9162) and Ed25519 signing helpers.

Pure code shared by the rights server (which builds the log) and the client (which checks it).
"""
