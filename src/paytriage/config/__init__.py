"""Editable configuration: typed settings and the data files teams edit (taxonomy, rules, SLA targets)."""
