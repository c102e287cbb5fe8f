"""The rights server: consent registry, catalogue feed and the ledger's transparency log.

``create_app(settings)`` in ``app.py`` builds the FastAPI app; ``cli.py`` is ``musicapp-server``.
The HTTP contract is docs/server-api.md.
"""
