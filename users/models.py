from typing import Any, ClassVar

from django.contrib.auth.models import AbstractUser, BaseUserManager
from django.db import models


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


class StepUpCode(models.Model):
    """A one-time code sent to prove, shortly before a push, that the cardholder holds their phone or mailbox.

    Only a keyed hash of the code is stored. A code is short-lived, single-use and allows few attempts.
    """

    class Channel(models.TextChoices):
        SMS = "sms", "Text message"
        EMAIL = "email", "E-mail"

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="step_up_codes")
    channel = models.CharField(max_length=8, choices=Channel.choices)
    sent_to_hint = models.CharField(max_length=64, help_text="Where it went, masked.")
    code_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    attempts = models.PositiveSmallIntegerField(default=0)
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("-created_at",)
        indexes = [models.Index(fields=["user", "-created_at"], name="stepup_user_created_idx")]

    def __str__(self) -> str:
        return f"Step-up code for {self.user_id} by {self.channel}"
