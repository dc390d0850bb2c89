from typing import Any

from django.core.management.base import BaseCommand

from users.operators import OPERATOR_PERMISSIONS, operators_group_sync


class Command(BaseCommand):
    help = "Create the `operators` group, or reset its permissions to exactly the routine set."

    def handle(self, *args: Any, **options: Any) -> None:
        group = operators_group_sync()
        count = sum(len(codenames) for codenames in OPERATOR_PERMISSIONS.values())
        self.stdout.write(f"Group {group.name!r}: {count} permissions.")
