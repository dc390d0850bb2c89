from django.apps import AppConfig


class ConcertsConfig(AppConfig):
    name = "concerts"
    default_auto_field = "django.db.models.BigAutoField"
