"""Legal state transitions, enforced in one place for every model that has a lifecycle.

A model declares `state` (a TextChoices field) and `TRANSITIONS`, a map from each state to the states it
may move to. Saving a row whose state changed along an edge not in the map raises IllegalTransitionError, so
neither a service nor an admin form nor a stray assignment can skip a step.
"""

from typing import Any, ClassVar, Self

from django.core.exceptions import ValidationError
from django.db import models


class IllegalTransitionError(Exception):
    def __init__(self, model: str, current: str, target: str) -> None:
        super().__init__(f"{model} cannot go from {current!r} to {target!r}")
        self.current = current
        self.target = target


class StatefulModel(models.Model):
    TRANSITIONS: ClassVar[dict[str, frozenset[str]]] = {}
    INITIAL_STATES: ClassVar[frozenset[str]] = frozenset()

    state: Any  # each subclass declares the concrete field

    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        loaded: str | None = getattr(self, "_loaded_state", None)
        if loaded is None and self._state.adding:
            if self.INITIAL_STATES and self.state not in self.INITIAL_STATES:
                raise IllegalTransitionError(type(self).__name__, "(new)", self.state)
        elif loaded is not None and loaded != self.state and self.state not in self.TRANSITIONS.get(loaded, ()):
            raise IllegalTransitionError(type(self).__name__, loaded, self.state)
        super().save(*args, **kwargs)
        self._loaded_state = self.state

    def clean(self) -> None:
        """Forms (the admin's included) show an illegal transition as a field error instead of failing on save."""
        super().clean()
        loaded: str | None = getattr(self, "_loaded_state", None)
        if loaded is not None and loaded != self.state and self.state not in self.TRANSITIONS.get(loaded, ()):
            raise ValidationError({"state": f"Cannot change from {loaded!r} to {self.state!r}."})

    @classmethod
    def from_db(cls, db: str | None, field_names: Any, values: Any) -> Self:
        instance = super().from_db(db, field_names, values)
        instance._loaded_state = instance.__dict__.get("state")
        return instance

    def transition_to(self, target: str) -> str:
        """Move to `target` (not saved yet); returns the previous state."""
        current = self.state
        if target not in self.TRANSITIONS.get(current, frozenset()):
            raise IllegalTransitionError(type(self).__name__, current, target)
        self.state = target
        return current
