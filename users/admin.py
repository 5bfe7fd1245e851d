from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.db.models import QuerySet
from django.http import HttpRequest

from users.lockout import second_factor_unlock
from users.models import User


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    """Django's user admin, keyed by e-mail address instead of a username."""

    ordering = ("email",)
    list_display = ("email", "first_name", "last_name", "is_staff", "is_active", "last_login")
    search_fields = ("email", "first_name", "last_name")
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        ("Personal info", {"fields": ("first_name", "last_name")}),
        ("Permissions", {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")}),
        ("Important dates", {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("email", "password1", "password2")}),)
    readonly_fields = ("last_login", "date_joined")
    actions = ["unlock_second_factor"]

    @admin.action(description="Unlock second-factor sign-in", permissions=["change"])
    def unlock_second_factor(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        unlocked = [user.email for user in queryset if second_factor_unlock(request=request, user=user)]
        if unlocked:
            self.message_user(request, f"Unlocked: {', '.join(unlocked)}. They can sign in with a code again.")
        else:
            self.message_user(request, "None of these accounts was locked.", messages.WARNING)
