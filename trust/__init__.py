"""Trust, decided once and on evidence: who may ask for an onboarding, who owns a SpotID.

Each question has one function; every intake channel and every validation asks it, and
anything without evidence is held for ops, never applied.
"""

from __future__ import annotations

from trust.ownership import Ownership, OwnershipVerdict, who_owns
from trust.sender import Admission, sender_authentication_off_warning, who_may_ask

__all__ = [
    "Admission",
    "Ownership",
    "OwnershipVerdict",
    "sender_authentication_off_warning",
    "who_may_ask",
    "who_owns",
]
