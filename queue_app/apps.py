from django.apps import AppConfig


class QueueAppConfig(AppConfig):
    name = "queue_app"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from concerts.inventory import inventory_listen
        from config import metrics
        from queue_app.sale import queue_inventory_publish
        from queue_app.selectors import queue_counts_all

        metrics.register_queue_stats_provider(queue_counts_all)
        inventory_listen(queue_inventory_publish)
