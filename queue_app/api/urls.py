from django.urls import URLPattern, path

from config.api.plain import documented
from queue_app.api import schema, views

urlpatterns: list[URLPattern] = [
    path(
        "queue/tokens",
        documented(views.queue_token_issue, schema.QueueTokenIssueDoc),
        name="queue-token-issue",
    ),
    path("queue/status", documented(views.queue_status, schema.QueueStatusDoc), name="queue-status"),
    path("concerts/<int:concert_id>/queue", views.QueueOverviewView.as_view(), name="concert-queue"),
]
