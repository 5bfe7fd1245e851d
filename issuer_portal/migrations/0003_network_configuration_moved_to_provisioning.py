"""NetworkConfiguration and AccountRange now belong to `provisioning` (the MDES connection lives with its client).

State only: the tables stay where they are until `provisioning.0005` takes them over and renames them.
"""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("issuer_portal", "0002_staff_roles")]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.DeleteModel(name="AccountRange"),
                migrations.DeleteModel(name="NetworkConfiguration"),
            ],
            database_operations=[],
        )
    ]
