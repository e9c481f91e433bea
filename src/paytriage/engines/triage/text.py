"""Making any ticket text safe to triage: HTML e-mails to text, control bytes out, size bounded."""

from __future__ import annotations

import html
import re

__all__ = ["MAX_TEXT_CHARS", "clean_text"]

MAX_TEXT_CHARS = 1_000_000
_HTML_HINT = re.compile(r"<(?:html|body|div|p|br|table|span|td|a\s)[\s>/]", re.IGNORECASE)
_SCRIPT = re.compile(r"<(script|style|head)\b[^>]*>.*?</\1\s*>", re.IGNORECASE | re.DOTALL)
_BREAKS = re.compile(r"<(?:br|/p|/div|/tr|/li|/h\d)\b[^>]*>", re.IGNORECASE)
_TAG = re.compile(r"<[^>]{0,2000}>")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffe\uffff]+")
_SPACES = re.compile(r"[ \t\u00a0]{2,}")
_BLANK_LINES = re.compile(r"\n\s*\n\s*\n+")


def clean_text(text: str) -> str:
    """Plain text: HTML tags stripped, entities decoded, control characters and lone surrogates removed."""
    if not text:
        return ""
    text = text[:MAX_TEXT_CHARS]
    text = text.encode("utf-8", "replace").decode("utf-8")  # lone surrogates from bad decoding
    if _HTML_HINT.search(text[:20000]):
        text = _SCRIPT.sub(" ", text)
        text = _BREAKS.sub("\n", text)
        text = _TAG.sub(" ", text)
        text = html.unescape(text)
    text = _CONTROL.sub(" ", text).replace("\r\n", "\n")
    text = _SPACES.sub(" ", text)
    return _BLANK_LINES.sub("\n\n", text).strip()
