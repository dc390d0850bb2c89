from django.db import models
from django.utils import timezone


class IdempotencyRecord(models.Model):
    """The first answer to a request made with an Idempotency-Key, written in the same transaction as
    the change it reports, replayed for repeats within IDEMPOTENCY_TTL_SECONDS."""

    # A plain id, not a FK: records are short-lived and must not block or be blocked by user rows.
    user_id = models.BigIntegerField()
    key = models.CharField(max_length=255)
    fingerprint = models.CharField(max_length=64)  # sha256 hex of method, path and canonical JSON body
    response_status = models.PositiveSmallIntegerField()
    response_body = models.JSONField()
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user_id", "key"], name="idempotency_user_key_unique")]

    def __str__(self) -> str:
        return f"{self.user_id}:{self.key} -> {self.response_status}"
