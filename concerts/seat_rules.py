"""The seat rules, each spelled once: "a seat can be taken now" and "a hold is live now".

A hold is live while the seat is HELD and `held_until > now`; at its deadline it lapses and the seat can
be taken again (by a hold or an operator's block) without any job having run. Every read and write of the
catalog uses these:

- seat_takeable_q() / seat_live_hold_q(): the rules as queryset filters (selectors, services, admin);
- SEAT_TAKEABLE_SQL: the same rule for the raw guarded UPDATEs in concerts.services;
- seat_is_takeable() / seat_hold_is_live(): the rules for a row already in memory;
- best_available(): which seats a best-available order takes;
- seat_hold_is_live(): the live-hold rule for a row already in memory (reads of many rows let the
  database compute the status: concerts.selectors.seat_public_status);
- the SQL twin: reservations_hold_seat() (migration reservations/0002_hold_seat_function) guards its seat
  UPDATE with SEAT_TAKEABLE_SQL written for its alias and parameter (`s.`, `p_now`); a test checks the
  installed function says exactly that.
"""

from __future__ import annotations

from datetime import datetime

from django.db.models import Q

from concerts.models import SeatStatus

# One %s: now. Column names unqualified (the guarded UPDATEs name one table).
SEAT_TAKEABLE_SQL = "(status = 'AVAILABLE' OR (status = 'HELD' AND held_until <= %s))"


def seat_takeable_sql(*, alias: str = "", now: str = "%s") -> str:
    """SEAT_TAKEABLE_SQL for a table alias and a placeholder of one's own (the SQL twin's spelling)."""
    column = f"{alias}." if alias else ""
    return (
        SEAT_TAKEABLE_SQL.replace("status", f"{column}status")
        .replace("held_until", f"{column}held_until")
        .replace("%s", now)
    )


def seat_takeable_q(*, now: datetime, prefix: str = "") -> Q:
    """Seats a hold (or a block) may take now: AVAILABLE, or HELD with a lapsed deadline."""
    return Q(**{f"{prefix}status": SeatStatus.AVAILABLE}) | Q(
        **{f"{prefix}status": SeatStatus.HELD, f"{prefix}held_until__lte": now}
    )


def seat_live_hold_q(*, now: datetime, prefix: str = "") -> Q:
    """Seats held by a hold that has not lapsed: HELD with `held_until > now`."""
    return Q(**{f"{prefix}status": SeatStatus.HELD, f"{prefix}held_until__gt": now})


def seat_hold_is_live(*, status: str, held_until: datetime | None, now: datetime) -> bool:
    """seat_live_hold_q() for a row already fetched."""
    return status == SeatStatus.HELD and held_until is not None and held_until > now


def seat_is_takeable(*, status: str, held_until: datetime | None, now: datetime) -> bool:
    """seat_takeable_q() for a row already fetched."""
    return status == SeatStatus.AVAILABLE or (
        status == SeatStatus.HELD and held_until is not None and held_until <= now
    )


def best_available(numbers: list[int], quantity: int) -> list[int] | None:
    """ "Best available" among the takeable seat `numbers` (ascending): the lowest-numbered run of
    `quantity` consecutive numbers, or where there is none the `quantity` lowest numbers; None when fewer
    than `quantity` remain. Its SQL twin plans each attempt of reservations_hold_seats() (migration
    reservations/0007); the order rule tests run both."""
    if len(numbers) < quantity:
        return None
    for end in range(quantity - 1, len(numbers)):
        if numbers[end] - numbers[end - quantity + 1] == quantity - 1:
            return numbers[end - quantity + 1 : end + 1]
    return numbers[:quantity]
