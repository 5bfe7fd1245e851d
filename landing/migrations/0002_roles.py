"""Landing links in the staff roles: Operations mints and revokes them, Auditor reads them."""

from django.apps.registry import Apps
from django.contrib.auth.management import create_permissions
from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor

ROLES = {
    "Operations": [
        "landing.view_landinglink",
        "landing.add_landinglink",
        "landing.change_landinglink",
        "cardholders.view_program",
    ],
    "Auditor": ["landing.view_landinglink", "cardholders.view_program"],
}


def grant(apps: Apps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    group_model = apps.get_model("auth", "Group")
    permission_model = apps.get_model("auth", "Permission")
    for role, codes in ROLES.items():
        group, _ = group_model.objects.get_or_create(name=role)
        for code in codes:
            app_label, codename = code.split(".")
            group.permissions.add(permission_model.objects.get(content_type__app_label=app_label, codename=codename))


def revoke(apps: Apps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    permission_model = apps.get_model("auth", "Permission")
    for role, codes in ROLES.items():
        group = apps.get_model("auth", "Group").objects.filter(name=role).first()
        if group is None:
            continue
        for code in codes:
            app_label, codename = code.split(".")
            group.permissions.remove(*permission_model.objects.filter(content_type__app_label=app_label, codename=codename))


class Migration(migrations.Migration):
    dependencies = [
        ("landing", "0001_initial"),
        ("issuer_portal", "0002_staff_roles"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
