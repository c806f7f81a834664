"""Emergency contacts: who helps at once, by urgent kind (DESIGN, "Answer rules": violence: 110
and the Hilfetelefon). A tenant lists its own (`[[emergency_contacts]]` in its TOML file, read
by tenants.py); the Ask flow shows those that fit the emergency, then the nationwide numbers.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from amtslotse.ask import texts


@dataclass(frozen=True)
class EmergencyContact:
    """One `[[emergency_contacts]]` entry. `kinds`: the urgent kinds it fits (texts.URGENT:
    suicide, violence, homeless, hunger, eviction, energy); empty: every kind."""

    label: str
    phone: str = ""
    hours: str = ""
    text: str = ""
    kinds: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        kinds = self.kinds
        if isinstance(kinds, str) or not all(isinstance(k, str) for k in kinds):
            raise TypeError('kinds: bitte eine Liste wie ["violence", "suicide"]')
        unknown = [k for k in kinds if k not in texts.URGENT]
        if unknown:
            raise TypeError(f"kinds: unbekannte Art {', '.join(unknown)} (erlaubt: {', '.join(texts.URGENT)})")
        object.__setattr__(self, "kinds", tuple(kinds))  # a TOML or JSON list

    def fits(self, kind: str) -> bool:
        return not self.kinds or kind in self.kinds

    def line(self) -> str:
        parts = [self.label, self.phone, f"({self.hours})" if self.hours else "", self.text]
        return " ".join(p for p in parts if p)


NATIONAL_EMERGENCY_CONTACTS = (
    EmergencyContact("Polizei", "110", "rund um die Uhr", kinds=("violence",)),
    EmergencyContact("Notruf", "112", "rund um die Uhr", kinds=("violence", "suicide")),
    EmergencyContact("Telefonseelsorge", "0800 111 0 111", "rund um die Uhr, kostenlos und anonym", kinds=("suicide",)),
    EmergencyContact("Hilfetelefon Gewalt gegen Frauen", "116 016", "rund um die Uhr, kostenlos, in vielen Sprachen",
                     kinds=("violence",)),
)
"""Nationwide numbers that every answer to violence or suicide shows, whatever a tenant lists."""


def emergency_contacts_for(contacts, kind: str) -> list[EmergencyContact]:
    """The contacts that fit an urgent kind, in the tenant's order, then the nationwide numbers
    for that kind the tenant's list lacks (violence: 110, 112, Hilfetelefon; suicide:
    Telefonseelsorge, 112). texts.URGENT names these services without their numbers.

    >>> jobcenter = EmergencyContact("Notfallnummer des Jobcenters", "0123 45678-99", kinds=("hunger", "eviction"))
    >>> [c.phone for c in emergency_contacts_for([jobcenter], "hunger")]
    ['0123 45678-99']
    >>> [c.phone for c in emergency_contacts_for([jobcenter], "violence")]
    ['110', '112', '116 016']
    """
    chosen = [c for c in contacts if c.fits(kind)]
    phones = {re.sub(r"\D", "", c.phone) for c in chosen}
    return chosen + [c for c in NATIONAL_EMERGENCY_CONTACTS if c.fits(kind) and re.sub(r"\D", "", c.phone) not in phones]
