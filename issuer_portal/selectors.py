"""Read use cases for the issuer's network configuration."""

from issuer_portal.models import AccountRange, NetworkConfiguration


def network_configuration_active() -> NetworkConfiguration | None:
    return NetworkConfiguration.objects.filter(is_active=True).first()


def account_range_start_for(card_number: str) -> str | None:
    """The 19-digit form of the longest configured range start that prefixes this card number, if any."""
    config = network_configuration_active()
    if config is None:
        return None
    starts = AccountRange.objects.filter(configuration=config).values_list("start", flat=True)
    matching = [start for start in starts if card_number.startswith(start)]
    if not matching:
        return None
    return max(matching, key=len).ljust(19, "0")
