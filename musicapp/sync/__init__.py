"""Offline-first sync with the rights server: consent feed in, signed ledger events out.

``engine.SyncEngine`` speaks the v1 API (see the issue 3 contract); ``state.SyncState`` keeps
what it learned (cursor, device, receipts, tree head) in ``sync.sqlite`` beside the ledger;
``device`` holds the Ed25519 key that signs this machine's events; the server's RFC 9162
receipts are checked with ``musicapp.transparency.merkle``. Nothing here imports Qt.
"""
