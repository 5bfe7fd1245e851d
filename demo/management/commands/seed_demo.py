"""Seed a demo issuer: network configuration for the local sandbox, cardholders with cards, a staff user.

Idempotent: running it again changes nothing that exists. Card numbers are public test numbers.
"""

import json
import secrets
from pathlib import Path
from typing import Any

from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from cardholders import vault
from cardholders.models import Card, Cardholder, Program
from cardholders.services import card_create
from landing.services import landing_link_mint
from provisioning.models import AccountRange, NetworkConfiguration
from provisioning.selectors import account_range_starts_active
from users.models import User

ACCOUNT_RANGES = {
    "555555555": "Everyday Debit",
    "510510510": "Rewards Credit",
    "520082828": "Gift cards",
    "222300004": "Expense cards",
}

CARDHOLDERS: list[dict[str, Any]] = [
    {
        "email": "alice@demo.example",
        "first_name": "Alice",
        "last_name": "Martin",
        "phone": "+15555550101",
        "cards": [
            ("5555555555554444", "debit", "Everyday Debit", 12, 2029),
            ("5105105105105100", "credit", "Rewards Credit", 8, 2028),
            ("5200828282828210", "gift", "Birthday Gift Card", 1, 2028),
        ],
    },
    {
        "email": "bob@demo.example",
        "first_name": "Bob",
        "last_name": "Okafor",
        "phone": "+15555550102",
        "cards": [("2223000048400011", "expense", "Acme Corp Expense Card", 6, 2028)],
    },
]
# Cards handed out through landing links have no cardholder account; each belongs to a program.
LANDING_CARDS = [
    ("5200828282828228", "gift", "Holiday Gift Card", 12, 2027, "Sunny Gifts"),
    ("2223000048400029", "emergency", "Travel Emergency Card", 3, 2027, "Acme Travel Insurance"),
]
GIFT_RECIPIENT = {"phone": "+15555550103", "email": "sam@demo.example"}
STAFF_EMAIL = "ops@demo.example"


class Command(BaseCommand):
    help = "Seed the demo issuer (only with PORTAL_DEMO=1 and DEBUG on). Safe to run again."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--credentials-file", type=Path, required=True)
        parser.add_argument("--sandbox-url", required=True)
        parser.add_argument("--portal-url", required=True)
        parser.add_argument("--consumer-key", required=True)
        parser.add_argument("--signing-key-path", required=True)
        parser.add_argument("--encryption-certificate-path", required=True)
        parser.add_argument(
            "--landing-link-file",
            type=Path,
            help="Mint a fresh landing link for the demo gift card and write it to this file (shown once).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.DEBUG:
            raise CommandError("seed_demo only runs with DJANGO_DEBUG=1: it creates users with known passwords")
        credentials = self._credentials(options["credentials_file"])
        with transaction.atomic():
            self._network_configuration(options)
            for person in CARDHOLDERS:
                cardholder = self._cardholder(person, credentials["cardholder_password"])
                for card in person["cards"]:
                    self._card(card, cardholder)
            for number, kind, name, month, year, program_name in LANDING_CARDS:
                # The gift program has a brand of its own: the demo shows two.
                program, _ = Program.objects.get_or_create(name=program_name, defaults={"brand_colour": "ember"})
                self._card((number, kind, name, month, year), None, program)
            self._staff(credentials)
        if options["landing_link_file"]:
            self._landing_link(options["landing_link_file"])
        self.stdout.write(self.style.SUCCESS("Demo issuer seeded."))

    def _landing_link(self, path: Path) -> None:
        number = LANDING_CARDS[0][0]
        card = Card.objects.get(number_fingerprint=vault.fingerprint(number))
        minted = landing_link_mint(
            card=card,
            purpose="gift",
            recipient_phone=GIFT_RECIPIENT["phone"],
            recipient_email=GIFT_RECIPIENT["email"],
            message="Happy holidays, Sam! Enjoy something nice.",
            actor_label="seed_demo",
        )
        path.write_text(minted.url)
        path.chmod(0o600)

    def _credentials(self, path: Path) -> dict[str, str]:
        if path.exists():
            return dict(json.loads(path.read_text()))
        credentials = {
            "cardholder_password": f"demo-{secrets.token_urlsafe(9)}",
            "staff_password": f"staff-{secrets.token_urlsafe(9)}",
            "staff_totp_secret": generate_totp_secret(),
        }
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(credentials, indent=2))
        path.chmod(0o600)
        return credentials

    def _network_configuration(self, options: dict[str, Any]) -> None:
        config, _ = NetworkConfiguration.objects.update_or_create(
            name="Demo sandbox",
            defaults={
                "is_active": True,
                "environment": NetworkConfiguration.Environment.SANDBOX,
                "base_url": f"{options['sandbox_url'].rstrip('/')}/mdes",
                "consumer_key": options["consumer_key"],
                "signing_key_path": options["signing_key_path"],
                "signing_key_password_env": "MDES_SIGNING_KEY_PASSWORD",
                "encryption_certificate_path": options["encryption_certificate_path"],
                "callback_base_url": options["portal_url"].rstrip("/"),
            },
        )
        for start, label in ACCOUNT_RANGES.items():
            AccountRange.objects.get_or_create(configuration=config, start=start, defaults={"label": label})

    def _user(self, email: str, password: str, **fields: Any) -> User:
        user, created = User.objects.get_or_create(email=email, defaults=fields)
        if created:
            user.set_password(password)
            user.save()
            EmailAddress.objects.create(user=user, email=email, verified=True, primary=True)
        return user

    def _cardholder(self, person: dict[str, Any], password: str) -> Cardholder:
        user = self._user(person["email"], password, first_name=person["first_name"], last_name=person["last_name"])
        cardholder, _ = Cardholder.objects.get_or_create(
            user=user,
            defaults={
                "phone_number": person["phone"],
                "address_line1": "1 Demo Street",
                "address_city": "Springfield",
                "address_country_subdivision": "IL",
                "address_postal_code": "62701",
                "address_country": "USA",
            },
        )
        return cardholder

    def _card(
        self, spec: tuple[str, str, str, int, int], cardholder: Cardholder | None, program: Program | None = None
    ) -> None:
        number, kind, name, month, year = spec
        existing = Card.objects.filter(number_fingerprint=vault.fingerprint(number))
        if existing.exists():
            if program is not None:  # a demo database seeded before programs existed
                existing.filter(program__isnull=True).update(program=program)
            return
        card_create(
            card_number=number,
            account_range_starts=account_range_starts_active(),
            expiry_month=month,
            expiry_year=year,
            product_kind=kind,
            product_name=name,
            cardholder=cardholder,
            program=program,
        )

    def _staff(self, credentials: dict[str, str]) -> None:
        staff = self._user(
            STAFF_EMAIL,
            credentials["staff_password"],
            first_name="Olivia",
            last_name="Operations",
            is_staff=True,
            is_superuser=True,
        )
        if not Authenticator.objects.filter(user=staff, type=Authenticator.Type.TOTP).exists():
            TOTP.activate(staff, credentials["staff_totp_secret"])
