"""Moved: the retries to events/retries.py, fault injection to fault_injection/ (it is
not part of the contract). This name stays only for order_service, which imports
`call_with_retries` from here; delete it once that import reads events.retries."""

from events.retries import call_with_retries

__all__ = ["call_with_retries"]
