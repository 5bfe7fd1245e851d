"""The decision rules and MDES's tokenization requests in the staff roles: Operations tunes the rules, Auditor reads."""

from django.db import migrations

from core.role_grants import role_grants


class Migration(migrations.Migration):
    dependencies = [
        ("issuer_services", "0001_initial"),
        ("issuer_portal", "0002_staff_roles"),
    ]

    operations = [
        role_grants(
            {
                "Operations": [
                    "issuer_services.view_decisionrules",
                    "issuer_services.change_decisionrules",
                    "issuer_services.view_tokenizationrequest",
                    "issuer_services.view_activationcode",
                ],
                "Auditor": [
                    "issuer_services.view_decisionrules",
                    "issuer_services.view_tokenizationrequest",
                    "issuer_services.view_activationcode",
                ],
            }
        )
    ]
