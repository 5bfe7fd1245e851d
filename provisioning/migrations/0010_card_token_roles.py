"""Card tokens in the staff roles: Operations suspends, resumes and removes them; Auditor reads them."""

from django.db import migrations

from core.role_grants import role_grants


class Migration(migrations.Migration):
    dependencies = [
        ("provisioning", "0009_card_tokens"),
        ("issuer_portal", "0002_staff_roles"),
    ]

    operations = [
        role_grants(
            {
                "Operations": ["provisioning.view_cardtoken", "provisioning.change_cardtoken"],
                "Auditor": ["provisioning.view_cardtoken"],
            }
        )
    ]
