"""The MDES connection moved from `issuer_portal` to `provisioning`: existing rows and staff grants survive it."""

import pytest
from django.contrib.auth.models import Group
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from provisioning.models import AccountRange, NetworkConfiguration

BEFORE_THE_MOVE = [("provisioning", "0004_handoff_link"), ("issuer_portal", "0002_staff_roles")]


def _migrate(targets: list[tuple[str, str]]) -> MigrationExecutor:
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    ContentType.objects.clear_cache()
    return executor


@pytest.mark.django_db(transaction=True)
def test_the_network_configuration_keeps_its_rows_and_the_roles_keep_their_permissions() -> None:
    latest = MigrationExecutor(connection).loader.graph.leaf_nodes()
    old_state = _migrate(BEFORE_THE_MOVE).loader.project_state(BEFORE_THE_MOVE).apps
    old_config = old_state.get_model("issuer_portal", "NetworkConfiguration").objects.create(
        name="Production",
        is_active=True,
        environment="production",
        base_url="https://api.mastercard.com/mdes",
        consumer_key="key",
        signing_key_path="/keys/signing.p12",
        encryption_certificate_path="/keys/encryption.pem",
        callback_base_url="https://portal.example-issuer.com",
    )
    old_state.get_model("issuer_portal", "AccountRange").objects.create(
        configuration=old_config, start="510510510", label="Debit"
    )
    # The grants as the staff-roles migration made them (rebuilt here: other tests may have flushed the tables).
    content_type, _ = old_state.get_model("contenttypes", "ContentType").objects.get_or_create(
        app_label="issuer_portal", model="networkconfiguration"
    )
    permission, _ = old_state.get_model("auth", "Permission").objects.get_or_create(
        content_type=content_type, codename="view_networkconfiguration", defaults={"name": "Can view"}
    )
    old_state.get_model("auth", "Group").objects.get_or_create(name="Auditor")[0].permissions.add(permission)

    _migrate(latest)

    config = NetworkConfiguration.objects.get()
    assert (config.pk, config.name, config.is_active) == (old_config.pk, "Production", True)
    assert list(AccountRange.objects.values_list("configuration_id", "start", "label")) == [
        (config.pk, "510510510", "Debit")
    ]
    assert NetworkConfiguration._meta.db_table in connection.introspection.table_names()
    assert "issuer_portal_networkconfiguration" not in connection.introspection.table_names()
    codes = set(Group.objects.get(name="Auditor").permissions.values_list("content_type__app_label", "codename"))
    assert ("provisioning", "view_networkconfiguration") in codes
    assert not ContentType.objects.filter(app_label="issuer_portal", model="networkconfiguration").exists()
    # A new configuration still gets a fresh id (the identity/sequence came along with the table).
    assert (
        NetworkConfiguration.objects.create(
            name="MTF",
            environment="mtf",
            base_url="https://x/mdes",
            consumer_key="k",
            signing_key_path="p",
            encryption_certificate_path="c",
            callback_base_url="https://portal.example-issuer.com",
        ).pk
        > config.pk
    )
