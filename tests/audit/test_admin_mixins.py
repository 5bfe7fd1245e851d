"""The staff lists' action checkbox, built as a string, is the markup Django's widget would render."""

import pytest
from django.contrib import admin

from audit.admin_mixins import ReadOnlyAdmin
from audit.models import AuditEvent

pytestmark = pytest.mark.django_db


def test_the_action_checkbox_is_djangos_own_markup_escaping_included() -> None:
    event = AuditEvent.objects.create(action="x.<b>done</b>", actor_label='a "quoted" <name>')

    ours = ReadOnlyAdmin(AuditEvent, admin.site).action_checkbox(event)

    assert ours == admin.ModelAdmin(AuditEvent, admin.site).action_checkbox(event)
    assert "<b>" not in ours
