import pytest

from queue_app.services import queue_token_issue, queue_token_status


@pytest.fixture(params=["database", "redis"])
def backend(request, settings) -> str:
    """Run the test once per queue backend (Redis only where REDIS_URL is set)."""
    if request.param == "redis" and not settings.REDIS_URL:
        pytest.skip("the Redis backend needs REDIS_URL (run under .ci/with-services)")
    settings.QUEUE_BACKEND = request.param
    return request.param


@pytest.fixture
def queue_settings(settings):
    """Small, explicit admission settings for arithmetic in assertions."""
    settings.QUEUE_PROMOTION_BATCH_SIZE = 2
    settings.QUEUE_PROMOTION_INTERVAL_SECONDS = 10
    settings.QUEUE_ACTIVE_TTL_SECONDS = 600
    settings.QUEUE_ABANDON_SECONDS = 300
    return settings


def on_sale_concert(seats: int = 50, **fields):
    """A concert with one schedule on sale now and `seats` AVAILABLE seats (rounds admit only while a
    seat is available)."""
    from tests.factories import ConcertFactory, schedule_with_seats

    concert = ConcertFactory(**fields)
    schedule_with_seats(seats, concert=concert)
    return concert


def on_sale_concerts(count: int, **fields):
    return [on_sale_concert(**fields) for _ in range(count)]


def issue(user, concert):
    """A token for `user` in `concert`'s queue (its view)."""
    return queue_token_issue(user_id=user.pk, concert_id=concert.pk)[0]


def status(view):
    """The token's view as of now."""
    return queue_token_status(token=view.token)
