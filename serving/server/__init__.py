"""The local TF-Serving-compatible development server (`python -m serving BASE_DIR`)."""

from serving.server.app import serve
from serving.server.models import ModelManager, Servable

__all__ = ["ModelManager", "Servable", "serve"]
