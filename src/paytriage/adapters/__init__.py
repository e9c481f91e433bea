"""Adapters at the edge: storage, web, CLI and connectors."""
