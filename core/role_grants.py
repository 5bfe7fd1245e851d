"""Granting permissions to the staff roles (Django groups) from a data migration.

A migration that adds a model gives its permissions to the roles with `role_grants({...})`; unapplying it takes
them back. Permissions are normally created after all migrations ran; the groups need them at once, so they are
created first.
"""

from collections.abc import Mapping, Sequence

from django.apps.registry import Apps
from django.contrib.auth.management import create_permissions
from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor


def role_grants(roles: Mapping[str, Sequence[str]]) -> migrations.RunPython:
    """A RunPython operation that gives each role ("Operations") its permissions ("app_label.codename")."""

    def grant(apps: Apps, schema_editor: BaseDatabaseSchemaEditor) -> None:
        for app_config in apps.get_app_configs():
            # create_permissions skips apps without a models module; historical app configs have none.
            app_config.models_module = True  # type: ignore[assignment]
            create_permissions(app_config, apps=apps, verbosity=0)
            app_config.models_module = None
        group_model = apps.get_model("auth", "Group")
        permission_model = apps.get_model("auth", "Permission")
        for role, codes in roles.items():
            group, _ = group_model.objects.get_or_create(name=role)
            for code in codes:
                app_label, codename = code.split(".")
                group.permissions.add(
                    permission_model.objects.get(content_type__app_label=app_label, codename=codename)
                )

    def revoke(apps: Apps, schema_editor: BaseDatabaseSchemaEditor) -> None:
        permission_model = apps.get_model("auth", "Permission")
        for role, codes in roles.items():
            group = apps.get_model("auth", "Group").objects.filter(name=role).first()
            if group is None:
                continue
            for code in codes:
                app_label, codename = code.split(".")
                group.permissions.remove(
                    *permission_model.objects.filter(content_type__app_label=app_label, codename=codename)
                )

    return migrations.RunPython(grant, revoke)
