"""The live sale page is for staff who may view the catalog; it is linked from the queue page and the
concert's admin page."""

import pytest
from django.contrib.auth.models import Permission
from django.test import Client

from tests.conftest import client_for
from tests.factories import ConcertFactory, UserFactory

pytestmark = pytest.mark.django_db


def urls(concert_id: int) -> list[str]:
    base = f"/admin/backoffice/livesale/{concert_id}"
    return [f"{base}/change/", f"{base}/data/", f"{base}/snapshots.csv"]


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_an_operator_sees_the_page_its_data_and_its_csv(operator_client, clock) -> None:
    concert = ConcertFactory(name="Harbour Lights")
    page, data, export = (operator_client.get(url) for url in urls(concert.pk))
    assert page.status_code == data.status_code == export.status_code == 200
    html = page.content.decode()
    assert "Live sale: Harbour Lights" in html and "backoffice/vendor/chart.umd.js" in html
    assert f'data-url="/admin/backoffice/livesale/{concert.pk}/data/?minutes=1440"' in html
    body = data.json()
    assert body["concert_id"] == concert.pk and body["now"]["state"] in ("OPEN", "SOLD_OUT")
    assert body["series"]["labels"] == [] and "no-store" in data["Cache-Control"]
    assert "Harbour Lights" in operator_client.get("/admin/backoffice/livesale/").content.decode()


def test_anonymous_visitors_and_fans_are_sent_to_the_login_page(client, clock) -> None:
    concert = ConcertFactory()
    fan = logged_in(UserFactory())
    for url in urls(concert.pk):
        for visitor in (client, fan):
            response = visitor.get(url)
            assert response.status_code == 302 and response["Location"].startswith("/admin/login/")
    # A bearer token of the API is no key to admin either.
    assert client_for(UserFactory()).get(urls(concert.pk)[1]).status_code == 302


def test_staff_without_the_catalog_permission_are_refused(clock) -> None:
    concert = ConcertFactory()
    staff = logged_in(UserFactory(is_staff=True))
    assert [staff.get(url).status_code for url in urls(concert.pk)] == [403, 403, 403]
    assert "Live sales" not in staff.get("/admin/").content.decode()
    viewer = UserFactory(is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_concert"))
    assert [logged_in(viewer).get(url).status_code for url in urls(concert.pk)] == [200, 200, 200]


def test_an_unknown_concert_is_404(operator_client) -> None:
    assert [operator_client.get(url).status_code for url in urls(999_999)] == [404, 404, 404]


def test_the_page_is_linked_from_the_queue_page_and_the_concert(operator_client, clock) -> None:
    concert = ConcertFactory()
    live = f'href="/admin/backoffice/livesale/{concert.pk}/change/"'
    assert live in operator_client.get(f"/admin/queue_app/concertqueue/{concert.pk}/change/").content.decode()
    assert live in operator_client.get(f"/admin/concerts/concert/{concert.pk}/change/").content.decode()
    assert "Live sales" in operator_client.get("/admin/").content.decode()
