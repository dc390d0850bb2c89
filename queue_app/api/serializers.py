from rest_framework import serializers


class QueueTokenIssueInput(serializers.Serializer):
    concert_id = serializers.IntegerField(min_value=1, max_value=2**63 - 1)


class QueueTokenOutput(serializers.Serializer):
    """The schema of a token body; the plain views build the same keys in views.token_body."""

    token = serializers.CharField()
    concert_id = serializers.IntegerField()
    status = serializers.ChoiceField(choices=["WAITING", "ACTIVE", "EXPIRED"])
    position = serializers.IntegerField(help_text="1 = next to be admitted; 0 when not WAITING.")
    estimated_wait_seconds = serializers.IntegerField()
    expires_at = serializers.DateTimeField(allow_null=True, help_text="null while WAITING.")
    issued_at = serializers.DateTimeField()
