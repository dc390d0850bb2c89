"""The queue contract, run against both backends (the `backend` fixture): services only, real stores,
time moved with the `clock` fixture."""

from datetime import timedelta

import pytest

from concerts.errors import ConcertNotFound
from concerts.services import concert_set_queue_admission
from queue_app import selectors
from queue_app.errors import QueueThrottled, QueueTokenNotActive, QueueTokenNotFound, QueueTokenRequired
from queue_app.services import (
    queue_promote,
    queue_promote_all,
    queue_token_expire,
    queue_token_issue,
    queue_token_require_active,
    queue_token_status,
)
from tests.factories import ConcertFactory, UserFactory
from tests.queue_app.conftest import issue, on_sale_concert, on_sale_concerts, status

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("backend", "queue_settings")]


@pytest.mark.embedded
def test_tokens_come_back_fifo_with_positions_and_estimates(clock):
    concert = on_sale_concert()
    results = [queue_token_issue(user_id=u.pk, concert_id=concert.pk) for u in UserFactory.create_batch(3)]

    assert [created for _, created in results] == [True, True, True]
    views = [view for view, _ in results]
    assert [v.position for v in views] == [1, 2, 3]
    assert [v.estimated_wait_seconds for v in views] == [10, 10, 20]  # ceil(position / 2) * 10
    assert {v.status for v in views} == {"WAITING"}
    assert all(v.expires_at is None and v.issued_at == clock.now() for v in views)
    assert all(v.concert_id == concert.pk for v in views)
    assert [status(v).position for v in views] == [1, 2, 3]


@pytest.mark.embedded
def test_asking_again_returns_the_live_token_and_never_moves_back(clock):
    concert = on_sale_concert()
    first, second = UserFactory.create_batch(2)
    token = issue(first, concert)
    issue(second, concert)
    clock.advance(30)

    again, created = queue_token_issue(user_id=first.pk, concert_id=concert.pk)
    assert not created
    assert (again.token, again.position, again.issued_at) == (token.token, 1, token.issued_at)

    assert queue_promote(concert_id=concert.pk) == 2
    active, created = queue_token_issue(user_id=first.pk, concert_id=concert.pk)
    assert not created and active.token == token.token and active.status == "ACTIVE"


def test_token_values_are_unguessable_and_bound_to_user_and_concert():
    user = UserFactory()
    concerts = on_sale_concerts(2)
    views = [issue(user, c) for c in concerts] + [issue(u, concerts[0]) for u in UserFactory.create_batch(20)]
    values = [v.token for v in views]
    assert len(set(values)) == len(values)
    assert all(len(value) >= 22 for value in values)  # >= 128 bits of url-safe base64
    assert (views[0].user_id, views[0].concert_id) == (user.pk, concerts[0].pk)
    assert (views[1].user_id, views[1].concert_id) == (user.pk, concerts[1].pk)


def test_issue_for_an_unknown_concert_is_not_found():
    with pytest.raises(ConcertNotFound):
        queue_token_issue(user_id=UserFactory().pk, concert_id=987654321)


def test_status_of_an_unknown_or_someone_elses_token_is_not_found():
    owner, stranger = UserFactory.create_batch(2)
    view = issue(owner, on_sale_concert())
    with pytest.raises(QueueTokenNotFound):
        queue_token_status(token="no-such-token")
    with pytest.raises(QueueTokenNotFound):
        queue_token_status(token=view.token, user_id=stranger.pk)
    assert queue_token_status(token=view.token, user_id=owner.pk).token == view.token


@pytest.mark.embedded
def test_a_round_admits_the_oldest_batch_in_order(clock):
    concert = on_sale_concert()
    views = [issue(u, concert) for u in UserFactory.create_batch(5)]

    assert queue_promote(concert_id=concert.pk) == 2
    after = [status(v) for v in views]
    assert [v.status for v in after] == ["ACTIVE", "ACTIVE", "WAITING", "WAITING", "WAITING"]
    assert [v.position for v in after] == [0, 0, 1, 2, 3]
    assert after[0].expires_at == clock.now() + timedelta(seconds=600)
    assert after[0].estimated_wait_seconds == 0
    assert queue_promote(concert_id=concert.pk) == 2
    assert queue_promote(concert_id=concert.pk) == 1
    assert queue_promote(concert_id=concert.pk) == 0
    counts = selectors.queue_counts(concert_id=concert.pk)
    assert (counts.waiting, counts.active) == (0, 5)


def test_the_cap_counts_only_live_active_tokens(clock, settings):
    settings.QUEUE_PROMOTION_BATCH_SIZE = 10
    settings.QUEUE_ABANDON_SECONDS = 3600  # nobody leaves while the actives lapse
    concert = on_sale_concert(queue_max_active=3)
    views = [issue(u, concert) for u in UserFactory.create_batch(6)]

    assert queue_promote(concert_id=concert.pk) == 3
    assert queue_promote(concert_id=concert.pk) == 0
    queue_token_expire(token=views[0].token)  # a payment completed
    assert queue_promote(concert_id=concert.pk) == 1
    assert status(views[3]).status == "ACTIVE"
    clock.advance(600)  # every admitted token lapses
    assert queue_promote(concert_id=concert.pk) == 2
    counts = selectors.queue_counts(concert_id=concert.pk)
    assert (counts.waiting, counts.active) == (0, 2)


def test_paused_admission_admits_nothing_until_resumed():
    concert = on_sale_concert(queue_paused=True)
    view = issue(UserFactory(), concert)
    assert queue_promote(concert_id=concert.pk) == 0
    assert status(view).status == "WAITING"
    concert_set_queue_admission(concert=concert, paused=False)
    assert queue_promote(concert_id=concert.pk) == 1


@pytest.mark.embedded
def test_an_active_token_expires_at_its_ttl_without_any_job(clock):
    concert = on_sale_concert()
    user = UserFactory()
    view = issue(user, concert)
    queue_promote(concert_id=concert.pk)
    assert queue_token_require_active(token=view.token, user_id=user.pk, concert_id=concert.pk)

    clock.advance(599)
    assert status(view).status == "ACTIVE"
    clock.advance(1)
    expired = status(view)
    assert (expired.status, expired.position, expired.estimated_wait_seconds) == ("EXPIRED", 0, 0)
    assert expired.expires_at == clock.now()
    with pytest.raises(QueueTokenNotActive):
        queue_token_require_active(token=view.token, user_id=user.pk, concert_id=concert.pk)


@pytest.mark.embedded
def test_a_waiting_token_not_polled_leaves_the_queue(clock):
    concert = on_sale_concert()
    gone, stays, late = (issue(u, concert) for u in UserFactory.create_batch(3))
    clock.advance(200)
    status(stays)
    status(late)
    clock.advance(100)  # `gone` unseen for 300 s: abandoned; the others were seen 100 s ago

    abandoned = status(gone)
    assert (abandoned.status, abandoned.position) == ("EXPIRED", 0)
    assert abandoned.expires_at == gone.issued_at + timedelta(seconds=300)
    assert status(stays).position == 1 and status(late).position == 2
    assert selectors.queue_counts(concert_id=concert.pk).waiting == 2


def test_the_admission_round_skips_and_clears_abandoned_tokens(clock):
    concert = on_sale_concert()
    users = UserFactory.create_batch(4)
    views = [issue(u, concert) for u in users]
    clock.advance(250)
    for view in views[2:]:
        status(view)
    clock.advance(60)  # the first two are abandoned; nobody asked about them since

    assert queue_promote(concert_id=concert.pk) == 2
    assert [status(v).status for v in views] == ["EXPIRED", "EXPIRED", "ACTIVE", "ACTIVE"]
    again, created = queue_token_issue(user_id=users[0].pk, concert_id=concert.pk)
    assert created and again.token != views[0].token and again.position == 1


def test_polling_keeps_a_waiting_token_in_the_queue(clock):
    concert = on_sale_concert(queue_paused=True)
    view = issue(UserFactory(), concert)
    for _ in range(5):
        clock.advance(299)
        assert status(view).status == "WAITING"
        queue_promote(concert_id=concert.pk)
    assert status(view).position == 1


def test_a_new_token_after_expiry_goes_to_the_back(clock):
    concert = on_sale_concert()
    user, other = UserFactory.create_batch(2)
    first = issue(user, concert)
    queue_promote(concert_id=concert.pk)
    issue(other, concert)
    queue_token_expire(token=first.token)

    again, created = queue_token_issue(user_id=user.pk, concert_id=concert.pk)
    assert created and again.token != first.token
    assert (again.status, again.position) == ("WAITING", 2)
    assert status(first).status == "EXPIRED"


@pytest.mark.embedded
def test_expire_is_idempotent_and_ignores_unknown_tokens(clock):
    concert = on_sale_concert()
    view = issue(UserFactory(), concert)
    queue_promote(concert_id=concert.pk)
    clock.advance(5)
    queue_token_expire(token=view.token)
    queue_token_expire(token=view.token)
    queue_token_expire(token="never-issued")
    expired = status(view)
    assert expired.status == "EXPIRED" and expired.expires_at == clock.now()
    assert selectors.queue_counts(concert_id=concert.pk).active == 0


def test_a_waiting_token_expired_by_an_operator_leaves_the_queue():
    concert = on_sale_concert()
    first, second = (issue(u, concert) for u in UserFactory.create_batch(2))
    queue_token_expire(token=first.token)
    assert status(first).status == "EXPIRED"
    assert status(second).position == 1
    assert queue_promote(concert_id=concert.pk) == 1
    assert status(second).status == "ACTIVE"


@pytest.mark.embedded
def test_require_active_checks_token_status_user_and_concert():
    concert, elsewhere = on_sale_concerts(2)
    user, stranger = UserFactory.create_batch(2)
    view = issue(user, concert)
    with pytest.raises(QueueTokenRequired):
        queue_token_require_active(token=None, user_id=user.pk, concert_id=concert.pk)
    with pytest.raises(QueueTokenRequired):
        queue_token_require_active(token="", user_id=user.pk, concert_id=concert.pk)
    with pytest.raises(QueueTokenNotActive):  # still waiting
        queue_token_require_active(token=view.token, user_id=user.pk, concert_id=concert.pk)

    queue_promote(concert_id=concert.pk)
    active = queue_token_require_active(token=view.token, user_id=user.pk, concert_id=concert.pk)
    assert active.status == "ACTIVE" and active.token == view.token
    # Views pass simplejwt's TokenUser.pk, which is the JWT claim: a string.
    assert queue_token_require_active(token=view.token, user_id=str(user.pk), concert_id=concert.pk)
    for token, user_id, concert_id in [
        (view.token, stranger.pk, concert.pk),
        (view.token, user.pk, elsewhere.pk),
        ("forged", user.pk, concert.pk),
    ]:
        with pytest.raises(QueueTokenNotActive):
            queue_token_require_active(token=token, user_id=user_id, concert_id=concert_id)


def test_promote_all_runs_a_round_for_every_concert_on_sale(clock):
    busy, quiet, idle = on_sale_concerts(3)
    no_schedule = ConcertFactory()
    for user in UserFactory.create_batch(3):
        issue(user, busy)
    issue(UserFactory(), quiet)
    issue(UserFactory(), no_schedule)
    assert queue_promote_all() == {busy.pk: 2, quiet.pk: 1, idle.pk: 0}
    assert queue_promote_all() == {}  # every concert's interval (10 s) has yet to elapse
    clock.advance(10)
    assert queue_promote_all() == {busy.pk: 1, quiet.pk: 0, idle.pk: 0}


def test_promote_for_an_unknown_concert_is_not_found():
    with pytest.raises(ConcertNotFound):
        queue_promote(concert_id=987654321)


def test_live_token_lookup_for_the_admin(clock):
    concert = on_sale_concert()
    user = UserFactory()
    assert selectors.queue_live_token_for_user(user_id=user.pk, concert_id=concert.pk) is None
    view = issue(user, concert)
    assert selectors.queue_live_token_for_user(user_id=user.pk, concert_id=concert.pk) == view.token
    clock.advance(300)  # abandoned
    assert selectors.queue_live_token_for_user(user_id=user.pk, concert_id=concert.pk) is None


def test_rate_limits_count_per_user_and_reset_with_the_window(clock, settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"queue_issue": "2/minute", "queue_status": "3/minute"},
    }
    clock.current = clock.current.replace(second=0)  # the start of a one-minute window
    concert = on_sale_concert()
    user, other = UserFactory.create_batch(2)
    for _ in range(2):
        view, _ = queue_token_issue(user_id=user.pk, concert_id=concert.pk, rate_limited=True)
    clock.advance(15)
    with pytest.raises(QueueThrottled) as throttled:
        queue_token_issue(user_id=user.pk, concert_id=concert.pk, rate_limited=True)
    assert throttled.value.retry_after == 45
    queue_token_issue(user_id=other.pk, concert_id=concert.pk, rate_limited=True)  # per user
    queue_token_issue(user_id=user.pk, concert_id=concert.pk)  # services without the flag: no limit

    for _ in range(3):
        queue_token_status(token=view.token, rate_limited=True)
    with pytest.raises(QueueThrottled):
        queue_token_status(token=view.token, rate_limited=True)
    clock.advance(45)
    assert queue_token_status(token=view.token, rate_limited=True).position == 1

    settings.RATE_LIMITS_ENABLED = False
    for _ in range(5):
        queue_token_status(token=view.token, rate_limited=True)
