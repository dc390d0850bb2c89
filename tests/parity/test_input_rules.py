"""config.api.plain.validated() gives what Serializer.is_valid gives, for serializers with whole-body rules
(a `validate(attrs)` hook) too: the same values, or the same error document."""

import pytest
from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import serializers

from config.api.plain import validated


class Window(serializers.Serializer):
    low = serializers.IntegerField(min_value=0)
    high = serializers.IntegerField(required=False)
    label = serializers.CharField(max_length=5, required=False)

    def validate(self, attrs: dict) -> dict:
        if "high" in attrs and attrs["high"] < attrs["low"]:
            raise serializers.ValidationError({"high": ["Must not be below low."]})
        if attrs.get("label") == "flat":
            raise serializers.ValidationError("A window is not flat.")  # non_field_errors
        if attrs.get("label") == "django":
            raise DjangoValidationError("Refused by a model rule.")
        return {**attrs, "width": attrs.get("high", attrs["low"]) - attrs["low"]}


def drf_answer(data):
    serializer = Window(data=data)
    if serializer.is_valid():
        return dict(serializer.validated_data)
    return serializers.ValidationError(serializer.errors).detail


def plain_answer(data):
    try:
        return validated(data, Window)
    except serializers.ValidationError as exc:
        return exc.detail


@pytest.mark.parametrize(
    "data",
    [
        {"low": 1, "high": 3},
        {"low": 1},
        {"low": 3, "high": 1},
        {"low": 1, "label": "flat"},
        {"low": 1, "label": "django"},
        {"low": -1, "high": "x"},  # field errors: the whole-body rule never runs
        {"low": "2", "high": 2.0, "label": "ok"},
        {},
        [],
    ],
    ids=repr,
)
def test_whole_body_rules_answer_as_the_serializer_does(data):
    assert plain_answer(data) == drf_answer(data)
