"""Engines: triage, investigation, patterns, escalation, knowledge and metrics over domain objects."""
