from django.apps import AppConfig


class BackofficeConfig(AppConfig):
    """Operators' views that read across apps: the sales dashboard and the live sale page."""

    name = "backoffice"
    verbose_name = "Back office"
