"""NetworkConfiguration and AccountRange, moved here from `issuer_portal` with their rows.

The models join this app's state on their old tables (`issuer_portal.0003` dropped them from that app's state),
then the tables get this app's names. Content types (and so the staff roles' permissions and the admin log) are
carried over to this app rather than made anew.
"""

from collections.abc import Callable

import django.core.validators
import django.db.models.deletion
from django.apps.registry import Apps
from django.db import migrations, models
from django.db.backends.base.schema import BaseDatabaseSchemaEditor

MOVED = ("networkconfiguration", "accountrange")


def content_types_to(old_app: str, new_app: str) -> Callable[[Apps, BaseDatabaseSchemaEditor], None]:
    def move(apps: Apps, schema_editor: BaseDatabaseSchemaEditor) -> None:
        content_type = apps.get_model("contenttypes", "ContentType")
        permission = apps.get_model("auth", "Permission")
        for model in MOVED:
            old = content_type.objects.filter(app_label=old_app, model=model).first()
            if old is None:
                continue
            new = content_type.objects.filter(app_label=new_app, model=model).first()
            if new is None:
                old.app_label = new_app
                old.save(update_fields=["app_label"])
                continue
            # Both exist (permissions were created for the new app first): keep the new, carry the grants over.
            for old_permission in permission.objects.filter(content_type=old):
                new_permission = permission.objects.filter(content_type=new, codename=old_permission.codename).first()
                if new_permission is not None:
                    for group in old_permission.group_set.all():
                        group.permissions.add(new_permission)
            old.delete()

    return move


class Migration(migrations.Migration):
    dependencies = [
        ("provisioning", "0004_handoff_link"),
        ("issuer_portal", "0003_network_configuration_moved_to_provisioning"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("auth", "0012_alter_user_first_name_max_length"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='NetworkConfiguration',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('name', models.CharField(max_length=64, unique=True)),
                        ('is_active', models.BooleanField(default=False, help_text='The configuration the portal uses. At most one is active.')),
                        ('environment', models.CharField(choices=[('sandbox', 'Sandbox (local or Mastercard sandbox)'), ('mtf', 'MTF (Mastercard Test Facility)'), ('production', 'Production')], default='sandbox', max_length=16)),
                        ('base_url', models.URLField(help_text='Token Connect base URL including /mdes, e.g. https://api.mastercard.com/mdes')),
                        ('consumer_key', models.CharField(help_text='OAuth consumer key from the Mastercard project.', max_length=200)),
                        ('signing_key_path', models.CharField(help_text='Path of the PKCS#12 (.p12) file holding the OAuth signing key.', max_length=500)),
                        ('signing_key_password_env', models.CharField(default='MDES_SIGNING_KEY_PASSWORD', help_text='Name of the environment variable holding the .p12 password (never the password itself).', max_length=100, validators=[django.core.validators.RegexValidator('^[A-Z][A-Z0-9_]*$', 'An environment variable name, e.g. MDES_SIGNING_KEY_PASSWORD')])),
                        ('encryption_certificate_path', models.CharField(help_text="Path of Mastercard's payload-encryption certificate (.pem or .cer).", max_length=500)),
                        ('encryption_key_fingerprint', models.CharField(blank=True, help_text='Optional: the publicKeyFingerprint Mastercard gave you; computed from the certificate if empty.', max_length=64, validators=[django.core.validators.RegexValidator('^[0-9a-f]{32,64}$', 'Lower-case hex, 32 to 64 characters')])),
                        ('callback_base_url', models.URLField(help_text='Public origin of this portal, used to build the callback URL for token requestors.')),
                        ('receipt_validity_minutes', models.PositiveSmallIntegerField(default=15, help_text='How long push receipts stay valid (MDES allows 5 to 15 minutes).', validators=[django.core.validators.MinValueValidator(5), django.core.validators.MaxValueValidator(15)])),
                        ('refresh_interval_days', models.PositiveSmallIntegerField(default=14, help_text='How often the list of token requestors is refreshed from MDES (Mastercard recommends bi-weekly).', validators=[django.core.validators.MinValueValidator(1), django.core.validators.MaxValueValidator(90)])),
                        ('default_locale', models.CharField(default='en_US', max_length=5, validators=[django.core.validators.RegexValidator('^[a-z]{2}_[A-Z]{2}$', 'Language and country as ll_CC, e.g. en_US')])),
                        ('created_at', models.DateTimeField(auto_now_add=True)),
                        ('updated_at', models.DateTimeField(auto_now=True)),
                    ],
                    options={
                        'db_table': 'issuer_portal_networkconfiguration',
                        'constraints': [models.UniqueConstraint(condition=models.Q(('is_active', True)), fields=('is_active',), name='one_active_network_config'), models.CheckConstraint(condition=models.Q(('receipt_validity_minutes__gte', 5), ('receipt_validity_minutes__lte', 15)), name='receipt_validity_5_to_15_minutes'), models.CheckConstraint(condition=models.Q(('default_locale__regex', '^[a-z]{2}_[A-Z]{2}$')), name='default_locale_ll_cc')],
                    },
                ),
                migrations.CreateModel(
                    name='AccountRange',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('start', models.CharField(help_text='Start of the account range, 9 to 19 digits (MDES pads it with zeros to 19).', max_length=19, validators=[django.core.validators.RegexValidator('^[0-9]{9,19}$', '9 to 19 digits')])),
                        ('label', models.CharField(blank=True, max_length=100)),
                        ('configuration', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='account_ranges', to='provisioning.networkconfiguration')),
                    ],
                    options={
                        'db_table': 'issuer_portal_accountrange',
                        'ordering': ('start',),
                        'constraints': [models.UniqueConstraint(fields=('configuration', 'start'), name='unique_account_range_per_config'), models.CheckConstraint(condition=models.Q(('start__regex', '^[0-9]{9,19}$')), name='account_range_9_to_19_digits')],
                    },
                ),
    
            ],
            database_operations=[],
        ),
        migrations.AlterModelTable(name="networkconfiguration", table=None),
        migrations.AlterModelTable(name="accountrange", table=None),
        migrations.RunPython(
            content_types_to("issuer_portal", "provisioning"), content_types_to("provisioning", "issuer_portal")
        ),
    ]
