"""Legal state transitions, enforced in one place for every model that has a lifecycle.

A model declares `state` (a TextChoices field) and `TRANSITIONS`, a map from each state to the states it
may move to. Saving a row whose state changed along an edge not in the map raises IllegalTransitionError, so
neither a service nor an admin form nor a stray assignment can skip a step. Changes made by one conditional UPDATE
(where racing writers must not both win) go through `transition_update`, which takes its source states from the
same map; raw SQL that moves states takes them from `states_leading_to`.
"""

from typing import Any, ClassVar, Self

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import QuerySet


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

    @classmethod
    def states_leading_to(cls, target: str) -> list[str]:
        """The states the map allows to move to `target`, sorted (for a stable SQL parameter)."""
        sources = sorted(state for state, targets in cls.TRANSITIONS.items() if target in targets)
        if not sources:
            raise IllegalTransitionError(cls.__name__, "(any)", target)
        return sources

    def transition_to(self, target: str) -> str:
        """Move to `target` (not saved yet); returns the previous state."""
        current = self.state
        if target not in self.TRANSITIONS.get(current, frozenset()):
            raise IllegalTransitionError(type(self).__name__, current, target)
        self.state = target
        return current


def transition_update(queryset: "QuerySet[Any]", target: str, **values: Any) -> int:
    """Move the rows of `queryset` (of a StatefulModel) to `target` in one conditional UPDATE, only those whose
    state the map allows to lead there; returns how many moved. A row that a racing writer moved first is no longer
    in a source state, so it is left alone and the caller sees it did not win."""
    sources = queryset.model.states_leading_to(target)
    return queryset.filter(state__in=sources).update(state=target, **values)
