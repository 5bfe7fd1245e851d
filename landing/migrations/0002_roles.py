"""Landing links in the staff roles: Operations mints and revokes them, Auditor reads them."""

from django.db import migrations

from core.role_grants import role_grants

ROLES = {
    "Operations": [
        "landing.view_landinglink",
        "landing.add_landinglink",
        "landing.change_landinglink",
        "cardholders.view_program",
    ],
    "Auditor": ["landing.view_landinglink", "cardholders.view_program"],
}


class Migration(migrations.Migration):
    dependencies = [
        ("landing", "0001_initial"),
        ("issuer_portal", "0002_staff_roles"),
    ]

    operations = [role_grants(ROLES)]
