"""Investigation engine: code knowledge, bank statements, and (elsewhere) correlation and hypotheses."""
