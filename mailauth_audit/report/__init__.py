"""Presenting an audit: JSON (schema-versioned), text, and the schema itself."""

from .renderers import RENDERERS, OutputFormat, Renderer
from .serialize import SCHEMA_VERSION, run_to_json

__all__ = ["RENDERERS", "SCHEMA_VERSION", "OutputFormat", "Renderer", "run_to_json"]
