"""I3: handling a card number end to end (register, seal, open for the network, render) logs it nowhere."""

import logging

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from cardholders import vault
from cardholders.models import Cardholder
from provisioning.models import NetworkConfiguration
from tests.factories import TEST_CARD_NUMBERS, CardFactory
from tests.users.helpers import sign_in

pytestmark = pytest.mark.django_db


def test_a_card_number_never_reaches_a_log_record_or_a_query(
    client, network_config: NetworkConfiguration, cardholder: Cardholder, caplog: pytest.LogCaptureFixture
) -> None:
    number = TEST_CARD_NUMBERS[1]
    caplog.set_level(logging.DEBUG)
    with CaptureQueriesContext(connection) as queries:
        card = CardFactory.create(cardholder=cardholder, card_number=number)
        assert vault.card_account_data(card)["accountNumber"] == number
        logging.getLogger("portal.test").info("opened card %s for the payload", card)
        sign_in(client, cardholder.user.email)
        page = client.get(reverse("home")).content.decode()
    assert "•••• 5100" in page
    assert number not in page
    everything_logged = "\n".join(
        f"{record.getMessage()} {record.args!r} {vars(record)!r}" for record in caplog.records
    )
    assert caplog.records
    assert number not in everything_logged
    assert number not in str(queries.captured_queries)
