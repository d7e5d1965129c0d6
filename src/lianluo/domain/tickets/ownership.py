"""The two ownership models of seed 001, as explicit rules.

* first_contact (首问负责, 一包到底): the agent who takes the customer's need owns the ticket
  until it is resolved. Others may be consulted (协办) but never take it over; an SLA breach
  alerts a supervisor instead of moving the ticket. Only a supervisor may hand it to someone else
  (the owner left, fell ill).
* tiered (首问 → 升级 → 支撑): tier 0 is the first contact; escalation moves the ticket to the
  queue of the next tier, where an agent of that tier picks it up. An SLA breach escalates
  automatically; past the last tier a breach alerts a supervisor.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class OwnershipModel(StrEnum):
    first_contact = "first_contact"
    tiered = "tiered"


class EscalationKind(StrEnum):
    next_tier = "next_tier"  # the ticket moves to the next tier's queue, owner cleared
    supervisor_alert = "supervisor_alert"  # the ticket stays; a supervisor is told


class OwnershipError(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class Escalation:
    kind: EscalationKind
    from_tier: int
    to_tier: int
    keeps_owner: bool


def initial_owner(model: OwnershipModel, first_agent: str | None) -> str | None:
    """Both models start with the agent who took the need (首问); a ticket filed by hand in the
    back office may start without one and wait in the first tier's queue."""
    return first_agent


def escalate(model: OwnershipModel, tier: int, tiers_after_first: int) -> Escalation:
    """What escalating a ticket at `tier` means. `tiers_after_first` is how many tiers the
    category has beyond the first contact (0 for first-contact ownership)."""
    if tier < 0:
        raise OwnershipError("tier must be >= 0")
    if model == OwnershipModel.tiered and tier < tiers_after_first:
        return Escalation(EscalationKind.next_tier, tier, tier + 1, keeps_owner=False)
    return Escalation(EscalationKind.supervisor_alert, tier, tier, keeps_owner=True)


def may_reassign(
    model: OwnershipModel, *, by_supervisor: bool, taking_it_oneself: bool, owned: bool
) -> bool:
    """Anyone may take a ticket nobody owns and supervisors may assign anyone. Otherwise:
    first_contact — the owner keeps it; tiered — an agent of the current tier may take it over
    (the tier's skills are checked by the caller)."""
    if by_supervisor or (taking_it_oneself and not owned):
        return True
    return model == OwnershipModel.tiered and taking_it_oneself


def resolved_end_to_end(first_owner: str | None, resolver: str | None, tier_changes: int) -> bool:
    """效能 per ticket: the first owner resolved it and it never left the first tier."""
    return first_owner is not None and resolver == first_owner and tier_changes == 0
