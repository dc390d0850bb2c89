"""Operators see orders and run the order actions (cancel and refund): the group gets
reservations.view_order and reservations.change_order."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

CODENAMES = ["view_order", "change_order"]


def forwards(apps, schema_editor):
    using = schema_editor.connection.alias
    app_config = apps.get_app_config("reservations")
    if not getattr(app_config, "models_module", None):
        app_config.models_module = True  # a historical (migration) app config has none
    create_permissions(app_config, verbosity=0, using=using, apps=apps)
    permissions = apps.get_model("auth", "Permission").objects.using(using).filter(
        content_type__app_label="reservations", codename__in=CODENAMES
    )
    for group in apps.get_model("auth", "Group").objects.using(using).filter(name="operators"):
        group.permissions.add(*permissions)


def backwards(apps, schema_editor):
    using = schema_editor.connection.alias
    permissions = apps.get_model("auth", "Permission").objects.using(using).filter(
        content_type__app_label="reservations", codename__in=CODENAMES
    )
    for group in apps.get_model("auth", "Group").objects.using(using).filter(name="operators"):
        group.permissions.remove(*permissions)


class Migration(migrations.Migration):
    dependencies = [
        ("reservations", "0007_hold_seats_function"),
        ("users", "0002_operators_group"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
