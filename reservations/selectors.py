"""Reservation reads. A PENDING reservation past `expires_at` reads EXPIRED, whatever the sweep did."""

import uuid
from datetime import datetime

from django.db.models import Case, CharField, Count, F, OuterRef, Prefetch, Q, QuerySet, Subquery, Value, When

from concerts.models import Seat
from reservations.errors import OrderNotFound, ReservationNotFound
from reservations.models import Order, Reservation, ReservationStatus


def reservation_list(*, user_id: int) -> QuerySet[Reservation]:
    return Reservation.objects.filter(user_id=user_id).order_by("-created_at", "-id")


def reservation_get(*, user_id: int, reservation_id: uuid.UUID) -> Reservation:
    """The user's own reservation; another user's is indistinguishable from a missing one."""
    reservation = reservation_list(user_id=user_id).filter(pk=reservation_id).first()
    if reservation is None:
        raise ReservationNotFound()
    return reservation


def reservation_has_pending_in_concert(*, user_id: int, concert_id: int, now: datetime) -> bool:
    """Whether the user still holds an unpaid, unlapsed seat of the concert (then a payment leaves their
    queue token ACTIVE, so they can pay that one too)."""
    return Reservation.objects.filter(
        user_id=user_id, concert_id=concert_id, status=ReservationStatus.PENDING, expires_at__gt=now
    ).exists()


def reservation_pending_count(*, user_id: int, now: datetime) -> int:
    return Reservation.objects.filter(
        user_id=user_id, status=ReservationStatus.PENDING, expires_at__gt=now
    ).count()


def reservation_status_now(*, reservation: Reservation, now: datetime) -> str:
    """The status a reader sees at `now`: a PENDING hold past its deadline is EXPIRED, job or no job.
    Its SQL twin for querysets is reservation_status_at() just below."""
    if reservation.status == ReservationStatus.PENDING and reservation.expires_at <= now:
        return ReservationStatus.EXPIRED.value
    return str(reservation.status)


def reservation_status_at(*, now: datetime) -> Case:
    """reservation_status_now() as a queryset annotation (filter and sort lists by the status now)."""
    return Case(
        When(
            status=ReservationStatus.PENDING, expires_at__lte=now, then=Value(ReservationStatus.EXPIRED.value)
        ),
        default=F("status"),
        output_field=CharField(),
    )


def reservation_counts_by_concert(*, concert_ids: list[int], now: datetime) -> dict[int, tuple[int, int]]:
    """{concert id: (live holds, sold tickets)} in one query. A pending hold past `expires_at` is not
    live; a sold ticket is a CONFIRMED reservation (a refunded one is CANCELLED)."""
    rows = (
        Reservation.objects.filter(concert_id__in=concert_ids)
        .values("concert_id")
        .annotate(
            holds=Count("pk", filter=Q(status=ReservationStatus.PENDING, expires_at__gt=now)),
            sold=Count("pk", filter=Q(status=ReservationStatus.CONFIRMED)),
        )
        .order_by()
    )
    return {row["concert_id"]: (row["holds"], row["sold"]) for row in rows}


def order_status_now(*, order: Order, now: datetime) -> str:
    """An order's status read like a reservation's: PENDING past `expires_at` is EXPIRED, job or no job."""
    if order.status == ReservationStatus.PENDING and order.expires_at <= now:
        return ReservationStatus.EXPIRED.value
    return str(order.status)


def orders_with_seats(orders: QuerySet[Order]) -> QuerySet[Order]:
    """Orders with their reservations (each with its seat's grade) fetched in one more query."""
    grade = Subquery(Seat.objects.filter(pk=OuterRef("seat_id")).values("grade")[:1])
    return orders.prefetch_related(
        Prefetch("reservations", queryset=Reservation.objects.annotate(grade=grade).order_by("seat_number"))
    )


def order_seats(order: Order) -> list[Reservation]:
    """The seats an order lists: those it still has, by number. A seat cancelled on its own leaves the
    list; an order cancelled whole keeps the seats it had when it was cancelled."""
    seats = getattr(order, "seats", None)
    if seats is not None:  # set by the service that just wrote the order
        return list(seats)
    listed = []
    for reservation in order.reservations.all():
        if reservation.status != ReservationStatus.CANCELLED or (
            order.cancelled_at is not None
            and reservation.cancelled_at is not None
            and reservation.cancelled_at >= order.cancelled_at
        ):
            listed.append(reservation)
    return listed


def order_total(order: Order) -> int:
    """What an order costs: the sum of its listed seats' prices."""
    return sum(r.price for r in order_seats(order))


def order_sizes_since(*, concert_id: int, since: datetime) -> dict[int, int]:
    """{seats per order: orders} of the concert's orders created at or after `since`, in one query
    (the (concert, created_at) index finds the orders). An order's size is the seats it was placed with,
    whatever became of them since."""
    size = Subquery(
        Reservation.objects.filter(order_id=OuterRef("pk"))
        .values("order_id")
        .annotate(seats=Count("pk"))
        .values("seats")[:1]
    )
    rows = (
        Order.objects.filter(concert_id=concert_id, created_at__gte=since)
        .annotate(size=size)
        .values("size")
        .annotate(orders=Count("pk"))
        .order_by()
    )
    return {row["size"]: row["orders"] for row in rows if row["size"]}


def order_list(*, user_id: int) -> QuerySet[Order]:
    return orders_with_seats(Order.objects.filter(user_id=user_id).order_by("-created_at", "-id"))


def order_get(*, user_id: int, order_id: uuid.UUID) -> Order:
    """The user's own order; another user's is indistinguishable from a missing one."""
    order = order_list(user_id=user_id).filter(pk=order_id).first()
    if order is None:
        raise OrderNotFound()
    return order


def order_id_of_reservation(*, user_id: int, reservation_id: uuid.UUID) -> uuid.UUID:
    """The order of the user's own reservation (a reservation's payment pays its whole order)."""
    order_id = (
        Reservation.objects.filter(pk=reservation_id, user_id=user_id)
        .values_list("order_id", flat=True)
        .first()
    )
    if order_id is None:
        raise ReservationNotFound()
    return order_id


def order_of_user(*, user_id: int, order_id: uuid.UUID) -> Order:
    """The user's own order row alone (no seats), for a flow that then locks it."""
    order = Order.objects.filter(pk=order_id, user_id=user_id).first()
    if order is None:
        raise OrderNotFound()
    return order
