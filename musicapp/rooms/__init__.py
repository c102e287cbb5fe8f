"""The studio's rooms: small doors for one job each (sync, records, library, models, stems).

``Studio`` holds one of each (``studio.sync``, ``studio.records``, ...); the CLI and the UI
reach the catalogue, the ledger, the rights server and the model files only through the studio
and these rooms (``tests/unit/test_import_boundaries.py``).
"""
