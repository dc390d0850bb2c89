"""The `operators` group with exactly the permissions routine admin work needs (users/operators.py)."""

from django.db import migrations


# The permissions as they stood at this migration (later migrations adjust the group): the models named
# here are the ones that exist at this point of the history.
PERMISSIONS = {
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
        "view_salesdashboard",
    ],
    "reservations": ["view_reservation", "change_reservation"],
    "payments": ["view_payment"],
    "points": ["view_wallet", "change_wallet", "view_ledgerentry"],
    "queue_app": ["view_concertqueue", "change_concertqueue", "view_queuetoken"],
}


def create_operators_group(apps, schema_editor):
    from users.operators import operators_group_sync

    operators_group_sync(apps=apps, using=schema_editor.connection.alias, permissions=PERMISSIONS)


def remove_operators_group(apps, schema_editor):
    from users.operators import OPERATORS_GROUP

    apps.get_model("auth", "Group").objects.using(schema_editor.connection.alias).filter(
        name=OPERATORS_GROUP
    ).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("users", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("concerts", "0002_sales_dashboard"),
        ("reservations", "0001_initial"),
        ("payments", "0002_initial"),
        ("points", "0001_initial"),
        ("queue_app", "0001_initial"),
    ]

    operations = [migrations.RunPython(create_operators_group, remove_operators_group)]
