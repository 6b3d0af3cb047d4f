"""The import/export dashboard as ipywidgets: `ImportExportApp()` in any notebook or in Voila."""

from .app import ImportExportApp

__all__ = ["ImportExportApp"]
