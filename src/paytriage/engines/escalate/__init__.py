"""Escalation: the package an engineer can act on, the Tier 2 vs Engineering decision, completeness."""
