"""Queue helpers for tests of other apps: a user holding an ACTIVE token, on either backend."""

from concerts.services import concert_set_queue_admission
from queue_app.services import queue_promote, queue_token_issue, queue_token_status


def active_queue_token(*, user, concert) -> str:
    """Issue a token through the service and admit it through an admission round.

    Tokens already waiting for the concert are admitted first (FIFO), so rounds repeat until this one
    is ACTIVE; a paused concert is resumed."""
    if concert.queue_paused:
        concert_set_queue_admission(concert=concert, paused=False)
    view, _ = queue_token_issue(user_id=user.pk, concert_id=concert.pk)
    for _ in range(1000):
        if view.status == "ACTIVE":
            return view.token
        if queue_promote(concert_id=concert.pk) == 0:
            break
        view = queue_token_status(token=view.token)
    raise AssertionError(f"queue token could not be admitted: {view}")
