from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from cardholders import vault
from cardholders.models import Card
from cardholders.services import card_vault_reseal_batch


class Command(BaseCommand):
    help = (
        "Re-encrypt every stored card number under CARD_VAULT_ACTIVE_KEY_ID. Add the new key to CARD_VAULT_KEYS, "
        "make it active, run this, then remove the old key once nothing uses it. Safe to interrupt and re-run."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--batch-size", type=int, default=500)

    def handle(self, *args: Any, batch_size: int, **options: Any) -> None:
        active = vault.active_key_id()
        remaining = Card.objects.exclude(number_key_id=active).count()
        self.stdout.write(f"{remaining} card(s) to re-encrypt under key {active!r}")
        done = 0
        while True:
            moved = card_vault_reseal_batch(batch_size=batch_size)
            if not moved:
                break
            done += moved
            self.stdout.write(f"  {done}/{remaining} re-encrypted")
        left = Card.objects.exclude(number_key_id=active).count()
        if left:
            self.stderr.write(self.style.WARNING(f"{left} card(s) were locked by other work; run the command again"))
        else:
            self.stdout.write(self.style.SUCCESS(f"Done: every card number is sealed under key {active!r}"))
