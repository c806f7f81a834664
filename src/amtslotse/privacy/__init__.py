"""Privacy: personal data is redacted before anything is stored in clear, logged, or sent to an LLM."""

from amtslotse.privacy.redaction import Finding, Kind, Redaction, mark, redact

__all__ = ["Finding", "Kind", "Redaction", "mark", "redact"]
