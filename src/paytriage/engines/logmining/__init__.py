"""Log template mining: raw log lines → templates (``<*>`` for variables) and parameters."""

from __future__ import annotations

from paytriage.engines.logmining.logformat import LogFormat, LogFormatError
from paytriage.engines.logmining.masking import Masker, MaskingError, MaskingRule, load_rules
from paytriage.engines.logmining.miner import Match, Template, TemplateMiner

__all__ = [
    "LogFormat",
    "LogFormatError",
    "Masker",
    "MaskingError",
    "MaskingRule",
    "Match",
    "Template",
    "TemplateMiner",
    "load_rules",
]
