from django.apps import AppConfig


class QueueAppConfig(AppConfig):
    name = "queue_app"
    default_auto_field = "django.db.models.BigAutoField"
