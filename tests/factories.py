"""factory_boy factories for the portal's models. Card numbers here are public test numbers."""

from typing import Any

import factory
from allauth.account.models import EmailAddress
from factory.django import DjangoModelFactory

from cardholders.models import Card, Cardholder, Program
from cardholders.services import card_create
from provisioning.models import AccountRange, NetworkConfiguration
from provisioning.selectors import account_range_starts_active
from users.models import User

TEST_PASSWORD = "correct horse battery staple"
# Luhn-valid test numbers inside the account ranges of NetworkConfigurationFactory.
TEST_CARD_NUMBERS = ("5555555555554444", "5105105105105100", "5200828282828210", "2223000048400011")


class UserFactory(DjangoModelFactory[User]):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"person{n}@example.test")
    first_name = "Susan"
    last_name = "Example"

    @factory.post_generation
    def password(obj: User, create: bool, extracted: str | None, **kwargs: Any) -> None:  # noqa: N805
        obj.set_password(extracted or TEST_PASSWORD)
        if create:
            obj.save()
            EmailAddress.objects.create(user=obj, email=obj.email, verified=True, primary=True)


class StaffUserFactory(UserFactory):
    is_staff = True
    is_superuser = True


class CardholderFactory(DjangoModelFactory[Cardholder]):
    class Meta:
        model = Cardholder

    user = factory.SubFactory(UserFactory)
    phone_number = "+15555550100"
    preferred_locale = "en_US"


class ProgramFactory(DjangoModelFactory[Program]):
    class Meta:
        model = Program

    name = factory.Sequence(lambda n: f"Program {n}")


class NetworkConfigurationFactory(DjangoModelFactory[NetworkConfiguration]):
    class Meta:
        model = NetworkConfiguration
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"config-{n}")
    is_active = True
    environment = NetworkConfiguration.Environment.SANDBOX
    base_url = "http://127.0.0.1:8001/mdes"
    consumer_key = "demo-consumer-key"
    signing_key_path = "/nonexistent/signing.p12"
    encryption_certificate_path = "/nonexistent/encryption.pem"
    callback_base_url = "http://127.0.0.1:8000"

    @factory.post_generation
    def ranges(obj: NetworkConfiguration, create: bool, extracted: list[str] | None, **kwargs: Any) -> None:  # noqa: N805
        if create:
            for start in extracted or ["555555555", "510510510", "520082828", "222300004"]:
                AccountRange.objects.create(configuration=obj, start=start)


class CardFactory(DjangoModelFactory[Card]):
    """Cards are made through the real service, so their numbers are sealed exactly as in production."""

    class Meta:
        model = Card

    card_number = TEST_CARD_NUMBERS[0]
    cardholder: Any = None
    program: Any = None
    product_kind = Card.ProductKind.DEBIT
    product_name = "Everyday Debit"
    expiry_month = 12
    expiry_year = 2030

    @classmethod
    def _create(cls, model_class: type[Card], *args: Any, card_number: str, **fields: Any) -> Card:
        return card_create(card_number=card_number, account_range_starts=account_range_starts_active(), **fields)


class GiftCardFactory(CardFactory):
    """A gift card of a program ("Sunny Gifts" unless given), in no cardholder's account: one to hand out by
    landing link."""

    program = factory.SubFactory(ProgramFactory, name="Sunny Gifts")
    card_number = TEST_CARD_NUMBERS[2]
    product_kind = Card.ProductKind.GIFT
    product_name = "Sunny Gift Card"
