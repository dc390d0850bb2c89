from rest_framework import serializers


class QueueTokenIssueInput(serializers.Serializer):
    concert_id = serializers.IntegerField(min_value=1, max_value=2**63 - 1)


class QueueTokenOutput(serializers.Serializer):
    """The schema of a token body; the plain views build the same keys in views.token_body."""

    token = serializers.CharField()
    concert_id = serializers.IntegerField()
    queue_number = serializers.IntegerField(
        help_text="The token's public join number within its concert: 1, 2, 3, ... in arrival order."
    )
    status = serializers.ChoiceField(choices=["WAITING", "ACTIVE", "EXPIRED"])
    position = serializers.IntegerField(
        allow_null=True,
        help_text="1 = next to be admitted; 0 when not WAITING; null in the pre-queue (before the "
        "sale opens and its pre-queue is drawn).",
    )
    estimated_wait_seconds = serializers.IntegerField(
        allow_null=True,
        help_text="From the admission achieved over the recent rounds; null while the sale has not "
        "opened, is paused, or has no seat to offer.",
    )
    expires_at = serializers.DateTimeField(allow_null=True, help_text="null while WAITING.")
    issued_at = serializers.DateTimeField()
    expired_reason = serializers.ChoiceField(
        choices=["PAID", "TIMED_OUT", "ABANDONED", "SOLD_OUT", "OPERATOR"],
        allow_null=True,
        help_text="null unless EXPIRED.",
    )


class QueueOverviewOutput(serializers.Serializer):
    """GET /concerts/{id}/queue: the concert's sale and queue at a glance."""

    concert_id = serializers.IntegerField()
    state = serializers.ChoiceField(
        choices=["SCHEDULED", "OPEN", "PAUSED", "SOLD_OUT"],
        help_text="SCHEDULED before the opening, PAUSED by an operator, SOLD_OUT when nothing is left.",
    )
    sales_open_at = serializers.DateTimeField(allow_null=True, help_text="null: open now.")
    waiting = serializers.IntegerField()
    active = serializers.IntegerField()
    max_active = serializers.IntegerField(allow_null=True, help_text="null: no cap.")
    admitted_last_minute = serializers.IntegerField()
    estimated_wait_seconds = serializers.IntegerField(
        allow_null=True, help_text="For a token taken now; null while not OPEN or without a seat to offer."
    )
    draw_commitment = serializers.CharField(
        allow_null=True, help_text="Hex SHA-256 of the UTF-8 draw seed, public once the sale is scheduled."
    )
    draw_seed = serializers.CharField(
        allow_null=True,
        help_text="Published once the pre-queue is drawn: the order is the ascending hex SHA-256 of "
        '"{draw_seed}:{queue_number}".',
    )
    drawn_at = serializers.DateTimeField(allow_null=True)
