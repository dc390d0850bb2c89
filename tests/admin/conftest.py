import pytest
from django.contrib.auth.models import Group
from django.test import Client

from tests.factories import UserFactory
from users.operators import operators_group_sync


@pytest.fixture
def operators_group(db) -> Group:
    # The migration creates it; transactional tests flush it, so make sure it is there.
    return operators_group_sync()


@pytest.fixture
def operator(operators_group):
    user = UserFactory(is_staff=True, email="operator@example.com")
    user.groups.add(operators_group)
    return user


@pytest.fixture
def operator_client(operator) -> Client:
    client = Client()
    client.force_login(operator)
    return client
