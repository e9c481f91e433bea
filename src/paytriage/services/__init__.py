"""Application services: use cases that combine connectors, engines and storage."""
