"""paytriage: Tier-2 payments support automation.

Triage, investigation, pattern recognition and engineering escalation for the tickets
Tier 1 cannot solve. The pure domain core lives in :mod:`paytriage.domain`; engines in
:mod:`paytriage.engines`; storage, web, CLI and connectors in :mod:`paytriage.adapters`.
"""

__version__ = "0.1.0"
__all__ = ["__version__"]
