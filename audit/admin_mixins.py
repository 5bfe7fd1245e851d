"""Staff changes made through the admin, recorded in the audit trail with before and after."""

from typing import Any

from django.contrib import admin
from django.contrib.admin import helpers
from django.db import models
from django.forms import BaseFormSet, ModelForm
from django.http import HttpRequest
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext

from audit.services import audit_event_record


def _jsonable(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, list | tuple):
        return [_jsonable(item) for item in value]
    if isinstance(value, dict):
        return {str(key): _jsonable(item) for key, item in value.items()}
    if isinstance(value, models.Model):
        return str(value.pk)
    return str(value)


def _changes(form: "ModelForm[Any]") -> tuple[dict[str, Any], dict[str, Any]]:
    fields = [name for name in form.changed_data if name not in getattr(form, "audit_exclude", ())]
    before = {name: _jsonable(form.initial.get(name)) for name in fields}
    after = {name: _jsonable(form.cleaned_data.get(name)) for name in fields}
    return before, after


class PlainActionCheckboxAdmin(admin.ModelAdmin):
    """The list's action checkbox as Django renders it, built as a string: Django renders it through the form
    widget templates, once per row, which is most of a 100-row list's time (the audit trail: about 60 %)."""

    def action_checkbox(self, obj: Any) -> SafeString:
        label = format_html(gettext("Select this object for an action - {}"), str(obj))  # Django's words
        return format_html(
            '<input type="checkbox" name="{}" value="{}" class="action-select" aria-label="{}">',
            helpers.ACTION_CHECKBOX_NAME,
            str(obj.pk),
            label,
        )


class AuditedAdminMixin(PlainActionCheckboxAdmin):
    """Every add, change and delete through this admin (and its inlines) becomes an audit event."""

    def _action(self, obj: models.Model, verb: str) -> str:
        return f"{obj._meta.model_name}.{verb}_by_staff"

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        before, after = _changes(form)
        super().save_model(request, obj, form, change)
        if change and not after:
            return
        audit_event_record(
            action=self._action(obj, "changed" if change else "added"),
            actor=request.user,
            target=obj,
            before=before if change else None,
            after=after,
            request=request,
        )

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        audit_event_record(
            action=self._action(obj, "deleted"),
            actor=request.user,
            target=obj,
            before={"repr": str(obj)},
            request=request,
        )
        super().delete_model(request, obj)

    def save_formset(self, request: HttpRequest, form: Any, formset: "BaseFormSet[Any]", change: bool) -> None:
        super().save_formset(request, form, formset, change)
        for inline_form in formset.forms:
            obj = inline_form.instance
            if obj.pk is None or not inline_form.has_changed():
                continue
            before, after = _changes(inline_form)
            added = not inline_form.initial
            audit_event_record(
                action=self._action(obj, "added" if added else "changed"),
                actor=request.user,
                target=obj,
                before=None if added else before,
                after=after,
                request=request,
            )
        for obj in getattr(formset, "deleted_objects", []):
            audit_event_record(
                action=self._action(obj, "deleted"),
                actor=request.user,
                target=obj,
                before={"repr": str(obj)},
                request=request,
            )


class ReadOnlyAdmin(PlainActionCheckboxAdmin):
    """A record of what happened: viewable by those allowed to, changeable by nobody (superusers included)."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
