"""What may be shown of a person's contact details: enough to recognise them, not to use them."""


def mask_email(email: str) -> str:
    """'alice@demo.example' → 'a•••@demo.example'."""
    local, _, domain = email.partition("@")
    return f"{local[:1]}•••@{domain}" if domain else "•••"
