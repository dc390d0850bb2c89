"""The `operators` group: exactly the permissions routine sales-day work needs in admin, nothing more.

Operators run the catalog (concerts, schedules, seats: view/add/change; block/unblock is a change), work
reservations and orders through the actions (release a hold, cancel and refund), read payments, read
wallets and their ledger and adjust a balance (the adjustment form needs change_wallet; the balance itself
is never editable), and run the queue page. They delete nothing and never see or edit user accounts.

Created by the data migration users/0002 and re-applied by `manage.py setup_operators` (idempotent: it
sets the group's permissions to exactly this list)."""

from __future__ import annotations

from typing import Any

from django.apps import apps as global_apps
from django.contrib.auth.management import create_permissions

OPERATORS_GROUP = "operators"

OPERATOR_PERMISSIONS: dict[str, list[str]] = {
    "concerts": [
        "view_concert",
        "add_concert",
        "change_concert",
        "view_schedule",
        "add_schedule",
        "change_schedule",
        "view_seat",
        "add_seat",
        "change_seat",
    ],
    "reservations": ["view_reservation", "change_reservation", "view_order", "change_order"],
    "payments": ["view_payment"],
    "points": ["view_wallet", "change_wallet", "view_ledgerentry"],
    "queue_app": ["view_concertqueue", "change_concertqueue", "view_queuetoken"],
    "backoffice": ["view_salesdashboard"],
}


def operators_group_sync(
    *, apps: Any = global_apps, using: str = "default", permissions: dict[str, list[str]] | None = None
) -> Any:
    """Create (or reset) the group with exactly `permissions` (default OPERATOR_PERMISSIONS); returns it.

    `apps` is the migration's historical registry inside a migration: permissions are normally created
    after all migrations (post_migrate), so they are created here first for a fresh database. A migration
    passes the list as it stood then (its models are the ones that existed then)."""
    wanted_by_app = OPERATOR_PERMISSIONS if permissions is None else permissions
    for label in wanted_by_app:
        app_config = apps.get_app_config(label)
        if not getattr(app_config, "models_module", None):
            app_config.models_module = True  # a historical (migration) app config has none
        create_permissions(app_config, verbosity=0, using=using, apps=apps)
    group_model = apps.get_model("auth", "Group")
    permission_model = apps.get_model("auth", "Permission")
    wanted = [(label, codename) for label, codenames in wanted_by_app.items() for codename in codenames]
    found = []
    for label, codename in wanted:
        permission = (
            permission_model.objects.using(using)
            .filter(content_type__app_label=label, codename=codename)
            .first()
        )
        if permission is None:
            raise LookupError(f"permission {label}.{codename} does not exist")
        found.append(permission)
    group, _ = group_model.objects.using(using).get_or_create(name=OPERATORS_GROUP)
    group.permissions.set(found)
    return group
