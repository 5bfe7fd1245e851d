import uuid
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from cardholders.models import Card
from landing import services
from landing.models import LandingLink


class Command(BaseCommand):
    help = (
        "Mint a landing link for a card (gift, expense, emergency) and print it once. "
        "The link itself is not stored: pass it on, or --deliver it to the recipient."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("card", help="The card's public id (UUID), as shown in the staff area.")
        parser.add_argument("--purpose", choices=LandingLink.Purpose.values, required=True)
        parser.add_argument("--phone", default="", help="Recipient's mobile number, international format.")
        parser.add_argument("--email", default="", help="Recipient's e-mail address.")
        parser.add_argument("--message", default="", help="A personal message shown on the page.")
        parser.add_argument("--program-name", default="", help="Shown as the sender (default: the card's program).")
        parser.add_argument("--days", type=int, default=settings.LANDING_LINK_DEFAULT_DAYS, help="Days it is valid.")
        parser.add_argument("--deliver", action="store_true", help="Send the link to the recipient now.")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            card = Card.objects.get(public_id=uuid.UUID(options["card"]))
        except (ValueError, Card.DoesNotExist) as exc:
            raise CommandError(f"No card with public id {options['card']!r}") from exc
        try:
            minted = services.landing_link_mint(
                card=card,
                purpose=options["purpose"],
                recipient_phone=options["phone"],
                recipient_email=options["email"],
                message=options["message"],
                program_name=options["program_name"],
                expires_in_days=options["days"],
                actor_label="manage.py mint_landing_link",
            )
            channel = services.landing_link_deliver(minted=minted) if options["deliver"] else None
        except services.LandingError as error:
            raise CommandError(f"{error.field or 'link'}: {error}") from error
        self.stdout.write(f"Link for {card} (valid until {minted.link.expires_at:%Y-%m-%d %H:%M} UTC):\n")
        self.stdout.write(f"{minted.url}\n")
        if channel:
            self.stdout.write(f"Sent to the recipient by {channel}.\n")
