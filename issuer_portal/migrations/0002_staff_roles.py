"""Staff roles as Django groups: Operations runs the provisioning, Auditor reads everything and changes nothing."""

from django.apps.registry import Apps
from django.contrib.auth.management import create_permissions
from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor

VIEW_EVERYTHING = [
    ("provisioning", "tokenrequestor"),
    ("provisioning", "pushrequest"),
    ("provisioning", "pushreceipt"),
    ("provisioning", "jobrun"),
    ("issuer_portal", "networkconfiguration"),
    ("issuer_portal", "accountrange"),
    ("cardholders", "card"),
    ("cardholders", "cardholder"),
]
ROLES = {
    "Operations": [
        *[f"{app}.view_{model}" for app, model in VIEW_EVERYTHING],
        "provisioning.change_tokenrequestor",
    ],
    "Auditor": [
        *[f"{app}.view_{model}" for app, model in VIEW_EVERYTHING],
        "audit.view_auditevent",
        "axes.view_accessattempt",
        "axes.view_accessfailurelog",
        "axes.view_accesslog",
    ],
}


def create_roles(apps: Apps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    # Permissions are normally created after all migrations ran; the groups need them now.
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
            group.permissions.add(
                permission_model.objects.get(content_type__app_label=app_label, codename=codename)
            )


def remove_roles(apps: Apps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    apps.get_model("auth", "Group").objects.filter(name__in=ROLES).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("issuer_portal", "0001_initial"),
        ("provisioning", "0003_job_run"),
        ("cardholders", "0001_initial"),
        ("audit", "0001_initial"),
        ("axes", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_roles, remove_roles)]
