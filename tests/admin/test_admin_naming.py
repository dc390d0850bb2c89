"""The back office names the product and its parts, never the framework or the code's module names."""

import pytest
from django.contrib import admin

pytestmark = pytest.mark.django_db


def test_admin_pages_carry_the_product_name(superuser_client):
    page = superuser_client.get("/admin/").content.decode()

    assert "<title>Sales-day operations | Concert ticketing</title>" in page
    assert "Concert ticketing back office" in page
    assert "Django administration" not in page and "Django site admin" not in page


def test_admin_index_lists_each_part_by_its_readable_name(superuser_client):
    page = superuser_client.get("/admin/").content.decode()

    shown = {model_admin.model._meta.app_config.verbose_name for model_admin in admin.site._registry.values()}
    assert {"Catalog", "Waiting queue", "Reservations", "Points", "Users"} <= shown
    for name in shown:
        assert f">{name}<" in page, name
    assert "Queue_App" not in page, page[page.find("Queue_App") - 300 : page.find("Queue_App") + 100]
