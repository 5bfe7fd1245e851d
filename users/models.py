from typing import Any, ClassVar

from django.contrib.auth.models import AbstractUser, BaseUserManager
from django.db import models

from core.one_time_codes import OneTimeCode


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def _create_user(self, email: str, password: str | None, **extra: Any) -> "User":
        if not email:
            raise ValueError("An e-mail address is required")
        user = self.model(email=self.normalize_email(email), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email: str, password: str | None = None, **extra: Any) -> "User":
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra)

    def create_superuser(self, email: str, password: str | None = None, **extra: Any) -> "User":
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        if extra["is_staff"] is not True or extra["is_superuser"] is not True:
            raise ValueError("A superuser must have is_staff and is_superuser")
        return self._create_user(email, password, **extra)


class User(AbstractUser):
    """A person who signs in: a cardholder, issuer staff, or both. Identified by e-mail address."""

    username = None  # type: ignore[assignment]
    email = models.EmailField("e-mail address", unique=True)

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS: ClassVar[list[str]] = []

    objects: ClassVar[UserManager] = UserManager()  # type: ignore[assignment]

    class Meta:
        ordering = ("email",)

    def __str__(self) -> str:
        return self.email


class StepUpCode(OneTimeCode):
    """A one-time code sent to prove, shortly before a push, that the cardholder holds their phone or mailbox."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="step_up_codes")

    class Meta(OneTimeCode.Meta):
        indexes = [models.Index(fields=["user", "-created_at"], name="stepup_user_created_idx")]

    def __str__(self) -> str:
        return f"Step-up code for {self.user_id} by {self.channel}"
