"""Who owns a SpotID: whether a company may map it, decided on HotSpot's word and the store's.

HotSpot does not stop a partner from pushing permits to any spot, so this check is Offstreet's:
a company maps only spots of its own HotSpot operators (HotSpot's `operator` field), and a
SpotID mapped to one company is never mapped to another. A spot of an operator the company does
not have on file (or a company with none on file yet) waits for ops to confirm the operator.
Races between two requests are decided by the database when the mapping is inserted
(`store.crud.claim_mappings`), not here.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum

from pydantic import BaseModel

from store.models import Company


def operates(operators: Iterable[str], operator: str) -> bool:
    """Whether `operator` (as HotSpot writes it) is one of `operators`: case and spacing
    never matter."""

    def key(name: str) -> str:
        return " ".join(name.split()).casefold()

    return key(operator) in {key(known) for known in operators}


class Ownership(StrEnum):
    """The company's claim on a SpotID."""

    owned = "owned"
    # HotSpot names an operator the company has not on file: ops confirm or refuse.
    operator_unconfirmed = "operator_unconfirmed"
    # Mapped to another company already: refused, the customer is sent to support.
    taken = "taken"


class OwnershipVerdict(BaseModel):
    """The verdict, with what ops read and what the customer reads."""

    ownership: Ownership
    reason: str | None = None
    customer_reason: str | None = None


TAKEN_FOR_CUSTOMER = (
    "this SpotID is already set up with Offstreet for another account; please contact "
    "Offstreet support"
)
UNCONFIRMED_FOR_CUSTOMER = "Offstreet is confirming this location's HotSpot operator"


def who_owns(
    *, company: Company, spot_id: str, operator: str | None, mapped_to: str | None
) -> OwnershipVerdict:
    """May `company` map `spot_id`, whose HotSpot operator is `operator` (None: unknown)?
    `mapped_to` names the company it is mapped to already, if any."""
    if mapped_to is not None and mapped_to != company.name:
        return OwnershipVerdict(
            ownership=Ownership.taken,
            reason=(
                f"SpotID {spot_id} is mapped to {mapped_to} already; {company.name} asked for it. "
                "A SpotID is never remapped by a request: check with both companies"
            ),
            customer_reason=TAKEN_FOR_CUSTOMER,
        )
    if operator is not None and operates(company.hotspot_operators, operator):
        return OwnershipVerdict(ownership=Ownership.owned)
    on_file = ", ".join(company.hotspot_operators) or "none on file yet"
    return OwnershipVerdict(
        ownership=Ownership.operator_unconfirmed,
        reason=(
            f"HotSpot says SpotID {spot_id} belongs to operator {operator!r}, which is not one "
            f"of {company.name}'s HotSpot operators ({on_file}); if {company.name} enforces "
            f'there: `hotspot-onboard operator add "{company.name}" "{operator}"`, then retry; '
            "otherwise reject the request"
        ),
        customer_reason=UNCONFIRMED_FOR_CUSTOMER,
    )
