from django.core.validators import RegexValidator
from rest_framework import serializers

# DRF refuses NUL characters in every CharField; the pattern says so in the schema too.
NO_NUL = RegexValidator(r"^[^\x00]*$", message="Null characters are not allowed.")


class UserRegisterInput(serializers.Serializer):
    name = serializers.CharField(max_length=150)
    email = serializers.EmailField(max_length=254)
    password = serializers.CharField(
        max_length=128, write_only=True, trim_whitespace=False, validators=[NO_NUL]
    )


class UserOutput(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    email = serializers.EmailField()


class TokenObtainInput(serializers.Serializer):
    email = serializers.EmailField(max_length=254)
    password = serializers.CharField(max_length=128, trim_whitespace=False, validators=[NO_NUL])


class TokenOutput(serializers.Serializer):
    access_token = serializers.CharField()
    token_type = serializers.CharField()
