import factory

from points.models import Wallet
from points.services import points_charge
from tests.factories import UserFactory


class WalletFactory(factory.django.DjangoModelFactory):
    """An empty wallet (balance 0 with no ledger rows keeps the invariant); fund it with `wallet_fund`."""

    class Meta:
        model = Wallet

    user = factory.SubFactory(UserFactory)
    balance = 0


def wallet_fund(*, user_id: int, amount: int) -> int:
    """Give a user points the way the product does (CHARGE rows), in charges of at most 1,000,000."""
    balance = 0
    while amount > 0:
        step = min(amount, 1_000_000)
        balance = points_charge(user_id=user_id, amount=step)
        amount -= step
    return balance
