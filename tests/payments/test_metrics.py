import pytest
from prometheus_client import REGISTRY

from points.services import points_charge
from tests.booking import booker_for, on_sale_schedule

pytestmark = pytest.mark.django_db


def sample(name: str) -> float:
    return REGISTRY.get_sample_value(name) or 0.0


def test_holds_and_payments_are_counted_once_committed(django_capture_on_commit_callbacks):
    holds, paid, failed = (
        sample("ticketing_holds_created_total"),
        sample("ticketing_payments_completed_total"),
        sample("ticketing_payments_failed_total"),
    )
    schedule = on_sale_schedule(price=10)
    fan = booker_for(schedule)
    with django_capture_on_commit_callbacks(execute=True):
        held = fan.hold(schedule, 1).json()
        assert fan.pay(held["id"]).status_code == 409  # no points yet
        points_charge(user_id=fan.user.pk, amount=10)
        assert fan.pay(held["id"]).status_code == 201
    assert sample("ticketing_holds_created_total") == holds + 1
    assert sample("ticketing_payments_completed_total") == paid + 1
    assert sample("ticketing_payments_failed_total") == failed + 1


def test_queue_gauges_come_from_the_queue(api_client):
    schedule = on_sale_schedule()
    booker_for(schedule)  # one ACTIVE token
    text = api_client.get("/metrics").content.decode()
    assert f'ticketing_queue_active{{concert_id="{schedule.concert_id}"}} 1.0' in text
