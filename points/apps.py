from django.apps import AppConfig


class PointsConfig(AppConfig):
    name = "points"
    verbose_name = "Points"
    default_auto_field = "django.db.models.BigAutoField"
