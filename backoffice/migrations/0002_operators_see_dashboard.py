"""The sales dashboard moved from concerts to backoffice: operators keep seeing it (the group gets
backoffice.view_salesdashboard) and the old model's content type and permissions are removed."""

from django.contrib.auth.management import create_permissions
from django.db import migrations


def forwards(apps, schema_editor):
    using = schema_editor.connection.alias
    app_config = apps.get_app_config("backoffice")
    if not getattr(app_config, "models_module", None):
        app_config.models_module = True  # a historical (migration) app config has none
    create_permissions(app_config, verbosity=0, using=using, apps=apps)
    permission = (
        apps.get_model("auth", "Permission")
        .objects.using(using)
        .get(content_type__app_label="backoffice", codename="view_salesdashboard")
    )
    for group in apps.get_model("auth", "Group").objects.using(using).filter(name="operators"):
        group.permissions.add(permission)
    apps.get_model("contenttypes", "ContentType").objects.using(using).filter(
        app_label="concerts", model="salesdashboard"
    ).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("backoffice", "0001_sales_dashboard"),
        ("users", "0002_operators_group"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
