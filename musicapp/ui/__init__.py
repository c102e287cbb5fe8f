"""The desktop front end (PySide6 + pyqtgraph): the main window, its panels, models and jobs."""
