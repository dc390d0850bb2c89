"""The sale day, run against both backends (the `backend` fixture): scheduled opening, pre-queue, the
verifiable draw, inventory-aware admission, sell-out and reopening, expired reasons, honest waits,
per-concert batch and interval. Services only, real stores, time moved with the `clock` fixture."""

import hashlib
import uuid
from datetime import timedelta

import pytest

from concerts.errors import ConcertNotFound
from concerts.models import Concert, Seat
from concerts.services import seat_take_for_hold, seats_block, seats_release, seats_sell, seats_unblock
from config.exceptions import InvalidInput
from queue_app import selectors
from queue_app.draw import draw_order
from queue_app.errors import QueueSoldOut, SaleAlreadyDrawn
from queue_app.services import (
    queue_promote,
    queue_promote_all,
    queue_token_expire,
    sale_schedule,
)
from tests.factories import UserFactory
from tests.queue_app.conftest import issue, on_sale_concert, status

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("backend", "queue_settings")]


def scheduled(clock, *, seats: int = 50, in_seconds: int = 600, **fields):
    concert = on_sale_concert(seats, **fields)
    sale_schedule(concert_id=concert.pk, opens_at=clock.now() + timedelta(seconds=in_seconds))
    return concert


def expected_order(views, seed: str) -> list[str]:
    by_number = {v.queue_number: v.token for v in views}
    return [by_number[n] for n in draw_order(seed=seed, queue_numbers=by_number)]


def test_the_pre_queue_waits_with_no_position_and_nobody_is_admitted(clock):
    concert = scheduled(clock)
    views = [issue(u, concert) for u in UserFactory.create_batch(4)]
    assert [v.queue_number for v in views] == [1, 2, 3, 4]
    assert {(v.status, v.position, v.estimated_wait_seconds) for v in views} == {("WAITING", None, None)}
    assert queue_promote(concert_id=concert.pk) == 0
    assert queue_promote_all() == {}
    clock.advance(599)
    assert [status(v).position for v in views] == [None] * 4
    overview = selectors.queue_overview(concert_id=concert.pk)
    assert (overview.state, overview.waiting, overview.draw_seed, overview.drawn_at) == (
        "SCHEDULED",
        4,
        None,
        None,
    )
    assert overview.estimated_wait_seconds is None
    concert.refresh_from_db()
    assert overview.draw_commitment == hashlib.sha256(concert.draw_seed.encode()).hexdigest()


def test_the_first_poll_after_the_opening_draws_and_later_tokens_join_behind(clock):
    concert = scheduled(clock)
    views = [issue(u, concert) for u in UserFactory.create_batch(12)]
    clock.advance(600)

    first = status(views[5])  # no job has run
    overview = selectors.queue_overview(concert_id=concert.pk)
    assert overview.state == "OPEN" and overview.drawn_at == clock.now()
    assert hashlib.sha256(overview.draw_seed.encode()).hexdigest() == overview.draw_commitment
    order = expected_order(views, overview.draw_seed)
    positions = {v.token: status(v).position for v in views}
    assert sorted(positions, key=positions.__getitem__) == order
    assert first.position == positions[views[5].token]
    assert Concert.objects.get(pk=concert.pk).drawn_at == clock.now()

    late = [issue(u, concert) for u in UserFactory.create_batch(3)]  # FIFO behind the drawn pre-queue
    assert [v.position for v in late] == [13, 14, 15]
    assert [v.queue_number for v in late] == [13, 14, 15]
    assert queue_promote(concert_id=concert.pk) == 2
    assert {status(v).status for v in views if v.token in order[:2]} == {"ACTIVE"}


@pytest.mark.parametrize("first_read", ["issue", "round", "overview"])
def test_any_first_read_after_the_opening_draws(clock, first_read):
    concert = scheduled(clock)
    views = [issue(u, concert) for u in UserFactory.create_batch(6)]
    clock.advance(601)
    if first_read == "issue":
        assert issue(UserFactory(), concert).position == 7
    elif first_read == "round":
        assert queue_promote(concert_id=concert.pk) == 2
    else:
        assert selectors.queue_overview(concert_id=concert.pk).draw_seed is not None
    seed = Concert.objects.get(pk=concert.pk).draw_seed
    order = expected_order(views, seed)
    waiting = [v for v in views if status(v).status == "WAITING"]
    assert sorted(waiting, key=lambda v: status(v).position) == [
        v for t in order for v in waiting if v.token == t
    ]


def test_the_pre_queue_is_not_abandoned_before_the_opening(clock):
    concert = scheduled(clock, in_seconds=3600)
    view = issue(UserFactory(), concert)
    clock.advance(3600 + 299)  # never polled: last seen counts from the opening
    queue_promote(concert_id=concert.pk)  # the round that draws and tidies admits it (batch 2)
    assert status(view).status == "ACTIVE"
    other = scheduled(clock, in_seconds=100)
    gone = issue(UserFactory(), other)
    clock.advance(100 + 300)
    expired = status(gone)
    assert (expired.status, expired.expired_reason) == ("EXPIRED", "ABANDONED")
    assert expired.expires_at == clock.now()


def test_scheduling_a_sale_checks_its_time_and_refuses_once_drawn(clock):
    concert = on_sale_concert()
    with pytest.raises(InvalidInput):
        sale_schedule(concert_id=concert.pk, opens_at=clock.now())
    with pytest.raises(ConcertNotFound):
        sale_schedule(concert_id=987654, opens_at=clock.now() + timedelta(hours=1))
    first = sale_schedule(concert_id=concert.pk, opens_at=clock.now() + timedelta(hours=1))
    second = sale_schedule(concert_id=concert.pk, opens_at=clock.now() + timedelta(hours=2))
    assert first.draw_seed != second.draw_seed and len(second.draw_seed) == 64
    assert second.draw_commitment == hashlib.sha256(second.draw_seed.encode()).hexdigest()
    assert second.sales_open_at == clock.now() + timedelta(hours=2)
    clock.advance(7200)  # due: the refusal draws first, then says no
    with pytest.raises(SaleAlreadyDrawn):
        sale_schedule(concert_id=concert.pk, opens_at=clock.now() + timedelta(hours=1))
    assert Concert.objects.get(pk=concert.pk).drawn_at == clock.now()


def test_no_round_admits_without_an_available_seat(clock, settings):
    settings.QUEUE_ABANDON_SECONDS = 3600
    concert = on_sale_concert(seats=2)
    views = [issue(u, concert) for u in UserFactory.create_batch(3)]
    Seat.objects.filter(schedule__concert=concert).update(
        status="HELD", held_until=clock.now() + timedelta(seconds=300), reservation_id=uuid.uuid4()
    )
    assert queue_promote(concert_id=concert.pk) == 0
    assert status(views[0]).estimated_wait_seconds is None  # no seat to offer
    assert selectors.queue_overview(concert_id=concert.pk).state == "OPEN"  # held seats: not sold out
    clock.advance(300)  # the holds lapse: the seats are AVAILABLE again, no job needed
    assert queue_promote(concert_id=concert.pk) == 2


def _sell_everything(concert, clock, django_capture_on_commit_callbacks) -> list[tuple[int, uuid.UUID]]:
    sold = []
    with django_capture_on_commit_callbacks(execute=True):
        for seat in Seat.objects.filter(schedule__concert=concert):
            reservation = uuid.uuid4()
            seat_take_for_hold(
                schedule_id=seat.schedule_id,
                seat_number=seat.number,
                reservation_id=reservation,
                held_until=clock.now() + timedelta(seconds=300),
                now=clock.now(),
            )
            assert (
                seats_sell(seats={seat.pk: reservation}, now=clock.now(), schedule_id=seat.schedule_id) == 1
            )
            sold.append((seat.pk, reservation))
    return sold


def test_sell_out_ends_the_queue_and_a_cancellation_reopens_it(
    clock, api_client, django_capture_on_commit_callbacks
):
    concert = on_sale_concert(seats=2)
    views = [issue(u, concert) for u in UserFactory.create_batch(4)]
    sold = _sell_everything(concert, clock, django_capture_on_commit_callbacks)

    with pytest.raises(QueueSoldOut):  # published by the sale itself: no round needed
        issue(UserFactory(), concert)
    assert issue(UserFactory.build(pk=views[0].user_id), concert).token == views[0].token  # live: kept
    assert api_client.get(f"/api/v1/concerts/{concert.pk}").json()["sold_out"] is True
    assert selectors.queue_overview(concert_id=concert.pk).state == "SOLD_OUT"
    assert queue_promote(concert_id=concert.pk) == 0
    after = [status(v) for v in views]
    assert {(v.status, v.expired_reason) for v in after} == {("EXPIRED", "SOLD_OUT")}

    with django_capture_on_commit_callbacks(execute=True):
        seat_id, reservation = sold[0]
        schedule_id = Seat.objects.get(pk=seat_id).schedule_id
        assert seats_release(seats={seat_id: reservation}, now=clock.now(), schedule_id=schedule_id) == 1
    assert api_client.get(f"/api/v1/concerts/{concert.pk}").json()["sold_out"] is False
    again = issue(UserFactory(), concert)
    assert (again.status, again.position) == ("WAITING", 1)
    assert selectors.queue_overview(concert_id=concert.pk).state == "OPEN"


def test_blocking_every_seat_sells_out_and_unblocking_reopens(clock, django_capture_on_commit_callbacks):
    concert = on_sale_concert(seats=3)
    seat_ids = list(Seat.objects.filter(schedule__concert=concert).values_list("pk", flat=True))
    with django_capture_on_commit_callbacks(execute=True):
        seats_block(seat_ids=seat_ids)
    with pytest.raises(QueueSoldOut):
        issue(UserFactory(), concert)
    with django_capture_on_commit_callbacks(execute=True):
        seats_unblock(seat_ids=seat_ids[:1])
    assert issue(UserFactory(), concert).status == "WAITING"


def test_each_expired_token_says_why(clock, django_capture_on_commit_callbacks):
    concert = on_sale_concert(seats=5)
    paid, lapsed, ended, waiting_ended, abandoned = (issue(u, concert) for u in UserFactory.create_batch(5))
    queue_promote(concert_id=concert.pk)
    queue_promote(concert_id=concert.pk)  # batch 2: paid, lapsed, ended are ACTIVE
    queue_token_expire(token=paid.token, reason="PAID")
    queue_token_expire(token=ended.token)
    queue_token_expire(token=waiting_ended.token)
    clock.advance(200)
    status(lapsed)
    clock.advance(100)  # `abandoned` unseen for 300 s
    clock.advance(300)  # `lapsed` active past its 600 s
    reasons = {
        v.token: (status(v).status, status(v).expired_reason) for v in (paid, lapsed, ended, waiting_ended)
    }
    assert reasons == {
        paid.token: ("EXPIRED", "PAID"),
        lapsed.token: ("EXPIRED", "TIMED_OUT"),
        ended.token: ("EXPIRED", "OPERATOR"),
        waiting_ended.token: ("EXPIRED", "OPERATOR"),
    }
    assert status(abandoned).expired_reason == "ABANDONED"
    queue_promote(concert_id=concert.pk)  # the tidy-up keeps the reasons
    assert status(lapsed).expired_reason == "TIMED_OUT" and status(abandoned).expired_reason == "ABANDONED"
    queue_token_expire(token=lapsed.token, reason="PAID")  # already ended: unchanged
    assert status(lapsed).expired_reason == "TIMED_OUT"
    assert all(status(v).expired_reason is None for v in [issue(UserFactory(), concert)])


def test_the_wait_estimate_follows_the_admission_achieved(clock, settings):
    concert = on_sale_concert(queue_max_active=2)
    settings.QUEUE_ABANDON_SECONDS = 3600
    views = [issue(u, concert) for u in UserFactory.create_batch(8)]
    assert status(views[4]).estimated_wait_seconds == 30  # no round yet: the configured pace, 2 per 10 s
    assert queue_promote(concert_id=concert.pk) == 2
    for _ in range(3):
        clock.advance(10)
        assert queue_promote(concert_id=concert.pk) == 0  # the cap holds everyone back
    # 2 admitted over 4 rounds (40 s): 0.5 per round, so position 3 waits 6 rounds, not 2.
    assert status(views[4]).position == 3
    assert status(views[4]).estimated_wait_seconds == 60
    overview = selectors.queue_overview(concert_id=concert.pk)
    assert (overview.admitted_last_minute, overview.admitted_total) == (2, 2)
    assert overview.estimated_wait_seconds == 140  # a token taken now: position 7
    for _ in range(6):
        clock.advance(10)
        queue_promote(concert_id=concert.pk)
    assert status(views[4]).estimated_wait_seconds is None  # a minute of rounds admitted nobody
    concert.queue_paused = True
    concert.save(update_fields=["queue_paused"])
    queue_promote(concert_id=concert.pk)
    assert status(views[4]).estimated_wait_seconds is None
    assert selectors.queue_overview(concert_id=concert.pk).state == "PAUSED"


def test_each_concert_keeps_its_own_batch_and_interval(clock):
    slow = on_sale_concert(queue_batch_size=1, queue_interval_seconds=30)
    fast = on_sale_concert(queue_batch_size=3)
    for concert in (slow, fast):
        for user in UserFactory.create_batch(10):
            issue(user, concert)
    assert queue_promote_all() == {slow.pk: 1, fast.pk: 3}
    ran = {}
    for _ in range(6):
        clock.advance(10)
        for concert_id, admitted in queue_promote_all().items():
            ran.setdefault(concert_id, []).append(admitted)
    assert ran == {fast.pk: [3, 3, 1, 0, 0, 0], slow.pk: [1, 1]}
