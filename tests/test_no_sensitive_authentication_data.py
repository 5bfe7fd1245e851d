"""A3: nothing in the schema can hold sensitive authentication data (CVC, PIN, track data)."""

import re

from django.apps import apps

SAD_NAME = re.compile(r"(?i)(^|_)(cvc|cvv|cvc2|cvv2|pin|pin_?block|track[12]?)($|_)")


def test_no_model_field_is_named_like_sensitive_authentication_data() -> None:
    offenders = [
        f"{model._meta.label}.{field.name}"
        for model in apps.get_models()
        for field in model._meta.get_fields()
        if SAD_NAME.search(field.name)
    ]
    assert offenders == []
