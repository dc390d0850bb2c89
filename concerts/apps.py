from django.apps import AppConfig


class ConcertsConfig(AppConfig):
    name = "concerts"
    verbose_name = "Catalog"
    default_auto_field = "django.db.models.BigAutoField"
