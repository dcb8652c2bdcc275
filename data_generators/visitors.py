"""Who is visiting: the `Visitor` a session is played for, and how one is drawn.

The batch generator and the live traffic both turn a customer of the population (or a
passer-by) into a Visitor; building it here keeps their draws, and so their sessions, alike.
"""

from __future__ import annotations

from dataclasses import dataclass

from data_generators.personas import ANONYMOUS_SHOPPER, PERSONAS, Persona
from data_generators.population import Population
from data_generators.randomness import KeyedUuids, RandomStream
from data_generators.taste import CustomerTaste, Intent
from data_generators.traffic import DEVICES, SOURCE_INDEX, Device, device_index

PRIMARY_DEVICE_SHARE = 0.75


@dataclass(frozen=True, slots=True)
class Visitor:
    """Who is visiting: signed in (user_id) or anonymous, and their current state."""

    user_id: int | None
    anonymous_id: str
    persona: Persona
    device: Device
    acquisition_channel: int = SOURCE_INDEX["direct"]
    email_opt_in: bool = False
    buy_factor: float = 1.0
    engagement: float = 1.0
    declining: bool = False
    decline_window: tuple[int, int] | None = None  # [first, last) epoch day, when known
    preferred_department: int | None = None
    last_order_id: int | None = None
    taste: CustomerTaste | None = None  # favourite leaves now; None for a passer-by
    intent: Intent | None = None  # a product the customer means to come back to
    owned: frozenset[int] = frozenset()  # durable products bought lately: not bought again


def customer_visitor(
    people: Population,
    device_ids: KeyedUuids,
    stream: RandomStream,
    user: int,
    *,
    engagement: float,
    declining: bool,
    decline_window: tuple[int, int] | None = None,
    taste: CustomerTaste | None = None,
    intent: Intent | None = None,
    owned: frozenset[int] = frozenset(),
) -> Visitor:
    """Customer `user` (index into the population) on their primary or secondary device."""
    slot = 0 if stream.chance(PRIMARY_DEVICE_SHARE) else 1
    last_order = int(people.last_order_id[user])
    return Visitor(
        user_id=user + 1,
        anonymous_id=device_ids.get(user + 1, slot),
        persona=PERSONAS[people.persona[user]],
        device=DEVICES[people.devices[user, slot]],
        acquisition_channel=int(people.channel[user]),
        email_opt_in=bool(people.email_opt_in[user]),
        buy_factor=float(people.buy_factor[user]),
        engagement=engagement,
        declining=declining,
        decline_window=decline_window,
        preferred_department=int(people.preferred_department[user]),
        last_order_id=last_order or None,
        taste=taste,
        intent=intent,
        owned=owned,
    )


def anonymous_visitor(stream: RandomStream) -> Visitor:
    """A visitor who never signs in, on a fresh device."""
    return Visitor(
        user_id=None,
        anonymous_id=stream.uuid(),
        persona=ANONYMOUS_SHOPPER,
        device=DEVICES[device_index(stream)],
    )
