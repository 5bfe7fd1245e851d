"""Refreshing token requestors from the sandbox MDES over real HTTP: upserts, retirement, logos, safety."""

from datetime import timedelta
from typing import Any

import pytest
from django.core.management import call_command
from django.test import override_settings

from audit.models import AuditEvent
from provisioning import refresh
from provisioning.mdes.errors import MdesUnavailable
from provisioning.models import JobRun, LogoAsset, NetworkConfiguration, TokenRequestor
from tests.fixtures.sandbox_server import SandboxServer

pytestmark = pytest.mark.django_db

DEMOPAY, SUNDAY_STORE, CLICK_TO_PAY, CORNER_BAKERY = "50100000011", "50100000022", "50100000033", "50100000044"


def test_refresh_stores_every_eligible_requestor_with_its_ranges_and_logos(
    sandbox_network_config: NetworkConfiguration,
) -> None:
    run = refresh.token_requestors_refresh()
    assert run.state == JobRun.State.SUCCEEDED
    assert run.counts["added"] == TokenRequestor.objects.count() >= 3
    assert run.counts["ranges_asked"] == 4
    demopay = TokenRequestor.objects.get(trid=DEMOPAY)
    assert demopay.requestor_type == "WALLET"
    assert {m["type"] for m in demopay.push_methods} == {"ANDROID", "IOS", "WEB"}
    assert "5555555550000000000" in set(demopay.enabled_ranges.values_list("range_start", flat=True))
    assert demopay.logo is not None
    assert demopay.logo.svg.startswith("<svg")
    assert bytes(demopay.logo.png)[:8] == b"\x89PNG\r\n\x1a\n"
    assert (demopay.logo.png_width, demopay.logo.png_height) == (192, 192)
    assert not demopay.offered  # new requestors wait for staff, unless the setting says otherwise
    assert AuditEvent.objects.filter(action="token_requestor.added").count() == run.counts["added"]


def test_staff_choices_survive_and_known_logos_are_not_fetched_again(
    sandbox_network_config: NetworkConfiguration, sandbox: SandboxServer
) -> None:
    refresh.token_requestors_refresh()
    TokenRequestor.objects.filter(trid=SUNDAY_STORE).update(offered=True, display_order=7)
    asset_calls = len([r for r in sandbox.request_log() if "issuer-assets" in r.get("path", "")])

    run = refresh.token_requestors_refresh()

    assert run.counts["added"] == 0
    assert run.counts["assets_fetched"] == 0
    assert len([r for r in sandbox.request_log() if "issuer-assets" in r.get("path", "")]) == asset_calls
    store = TokenRequestor.objects.get(trid=SUNDAY_STORE)
    assert (store.offered, store.display_order) == (True, 7)


def test_requestors_no_longer_listed_are_retired_not_deleted(sandbox_network_config: NetworkConfiguration) -> None:
    refresh.token_requestors_refresh()
    TokenRequestor.objects.create(
        trid="50199999999", name="Gone", consumer_facing_name="Gone Wallet", requestor_type="WALLET", offered=True
    )
    run = refresh.token_requestors_refresh()
    gone = TokenRequestor.objects.get(trid="50199999999")
    assert run.counts["retired"] == 1
    assert gone.retired_at is not None
    assert not gone.offered
    assert AuditEvent.objects.filter(action="token_requestor.retired", object_id=str(gone.pk)).exists()


@override_settings(PROVISIONING_OFFER_NEW_TOKEN_REQUESTORS=True)
def test_new_requestors_can_be_offered_at_once_by_setting(sandbox_network_config: NetworkConfiguration) -> None:
    refresh.token_requestors_refresh()
    assert TokenRequestor.objects.filter(offered=True).count() == TokenRequestor.objects.count()


def test_mdes_failure_keeps_the_last_good_list_and_is_recorded(
    sandbox_network_config: NetworkConfiguration, sandbox: SandboxServer
) -> None:
    refresh.token_requestors_refresh()
    TokenRequestor.objects.update(offered=True)
    sandbox.fail_next(503)
    with pytest.raises(MdesUnavailable):
        refresh.token_requestors_refresh()
    assert TokenRequestor.objects.filter(offered=True, retired_at__isnull=True).count() >= 3
    failed = JobRun.objects.filter(job=refresh.REFRESH_JOB).first()
    assert failed is not None
    assert failed.state == JobRun.State.FAILED
    assert failed.finished_at is not None


def test_three_failures_in_a_row_raise_an_alert(
    sandbox_network_config: NetworkConfiguration, sandbox: SandboxServer, caplog: Any
) -> None:
    sandbox.fail_next(500, count=3)
    for _ in range(3):
        with pytest.raises(MdesUnavailable):
            refresh.token_requestors_refresh()
    assert AuditEvent.objects.filter(action="token_requestor.refresh_failing").count() == 1
    assert "failed 3 times in a row" in caplog.text


def test_a_second_refresh_while_one_runs_exits_saying_why(sandbox_network_config: NetworkConfiguration) -> None:
    JobRun.objects.create(job=refresh.REFRESH_JOB)  # another process's run, under way
    run = refresh.token_requestors_refresh()
    assert run.state == JobRun.State.SKIPPED
    assert "under way" in run.detail
    assert not TokenRequestor.objects.exists()


def test_a_run_abandoned_by_a_dead_worker_stops_blocking_after_the_time_limit(
    sandbox_network_config: NetworkConfiguration, settings: Any
) -> None:
    import time_machine
    from django.utils import timezone

    abandoned = JobRun.objects.create(job=refresh.REFRESH_JOB)
    with time_machine.travel(timezone.now() + timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT + 1)):
        run = refresh.token_requestors_refresh()
    assert run.state == JobRun.State.SUCCEEDED
    abandoned.refresh_from_db()
    assert abandoned.state == JobRun.State.FAILED
    assert "Abandoned" in abandoned.detail


def test_refresh_without_an_active_configuration_fails_clearly(db: None) -> None:
    run = refresh.token_requestors_refresh()
    assert run.state == JobRun.State.FAILED
    assert "No network configuration is active" in run.detail


def test_refresh_is_due_after_the_configured_interval(sandbox_network_config: NetworkConfiguration) -> None:
    import time_machine
    from django.utils import timezone

    assert refresh.refresh_due()
    refresh.token_requestors_refresh()
    assert not refresh.refresh_due()
    with time_machine.travel(timezone.now() + timedelta(days=sandbox_network_config.refresh_interval_days)):
        assert refresh.refresh_due()


def test_management_command_shows_progress_and_a_summary(
    sandbox_network_config: NetworkConfiguration, capsys: Any
) -> None:
    call_command("refresh_token_requestors")
    out = capsys.readouterr().out
    assert "asking MDES" in out
    assert "Refreshed:" in out
    assert LogoAsset.objects.exists()


def test_logo_is_served_by_the_portal_with_long_cache_headers(
    sandbox_network_config: NetworkConfiguration, client: Any
) -> None:
    refresh.token_requestors_refresh()
    logo = LogoAsset.objects.first()
    assert logo is not None
    for image_format, content_type in (("png", "image/png"), ("svg", "image/svg+xml")):
        response = client.get(f"/logos/{logo.asset_id}.{image_format}")
        assert response.status_code == 200
        assert response["Content-Type"] == content_type
        assert "immutable" in response["Cache-Control"]
        assert "sandbox" in response["Content-Security-Policy"]
    assert client.get("/logos/unknown-asset.png").status_code == 404


@pytest.mark.parametrize("image_format", ["svg", "png"])
def test_a_logo_opened_on_its_own_is_a_sandboxed_file_named_by_its_asset(
    db: Any, client: Any, image_format: str
) -> None:
    # The network's SVG may hold script: it must stay an image whatever a browser makes of it.
    LogoAsset.objects.create(asset_id="asset-1", svg="<svg xmlns='http://www.w3.org/2000/svg'/>", png=b"\x89PNG")
    response = client.get(f"/logos/asset-1.{image_format}")
    assert response["Content-Disposition"] == f'inline; filename="asset-1.{image_format}"'
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Security-Policy"] == "default-src 'none'; style-src 'unsafe-inline'; sandbox"
    assert response["Cross-Origin-Resource-Policy"] == "same-origin"


def test_an_empty_answer_never_retires_the_whole_list(
    sandbox_network_config: NetworkConfiguration, sandbox: SandboxServer
) -> None:
    refresh.token_requestors_refresh()
    TokenRequestor.objects.update(offered=True)
    sandbox_network_config.account_ranges.all().delete()
    sandbox_network_config.account_ranges.create(start="999999999")  # a range no requestor is enabled for

    run = refresh.token_requestors_refresh()

    assert run.state == JobRun.State.FAILED
    assert "nothing was retired" in run.detail
    assert not TokenRequestor.objects.filter(retired_at__isnull=False).exists()
    assert TokenRequestor.objects.filter(offered=True).count() >= 3


def test_a_run_that_missed_a_logo_is_followed_up_within_the_hour(sandbox_network_config: NetworkConfiguration) -> None:
    import time_machine
    from django.utils import timezone

    JobRun.objects.create(job=refresh.REFRESH_JOB).finish(state=JobRun.State.PARTIAL, detail="logo x: 503")
    assert not refresh.refresh_due()
    with time_machine.travel(timezone.now() + refresh.PARTIAL_FOLLOW_UP):
        assert refresh.refresh_due()


HOSTILE_WEB = "https://a.example; script-src * 'unsafe-inline'; img-src *"
HOSTILE_ANDROID = "javascript:alert(document.domain)//"
ODD, HOSTILE = "50100000077", "50100000066"


def _register(sandbox: SandboxServer, trid: str, **fields: Any) -> None:
    """A requestor MDES lists for the demo ranges, with the fields given exactly as MDES would send them."""
    sandbox.control(
        "POST",
        "token-requestors",
        {"tokenRequestorId": trid, "name": "Odd Wallet", "tokenRequestorType": "WALLET", **fields},
    )


def test_one_odd_requestor_is_truncated_or_cleaned_and_the_rest_are_refreshed(
    sandbox_network_config: NetworkConfiguration, sandbox: SandboxServer
) -> None:
    _register(sandbox, ODD, name="L" * 80, consumerFacingEntityName="C" * 120, walletId="TOOLONG")
    _register(
        sandbox,
        HOSTILE,
        imageAssetId="../../admin/x",
        supportedPushMethods=["WEB", "ANDROID", "IOS"],
        availablePushMethods=[
            {"type": "WEB", "uri": HOSTILE_WEB},
            {"type": "ANDROID", "uri": HOSTILE_ANDROID},
            {"type": "IOS", "uri": "https://hostile.example/ios"},
        ],
    )

    run = refresh.token_requestors_refresh()

    assert run.state == JobRun.State.SUCCEEDED
    assert {DEMOPAY, SUNDAY_STORE, CLICK_TO_PAY, ODD, HOSTILE} <= set(
        TokenRequestor.objects.values_list("trid", flat=True)
    )
    odd = TokenRequestor.objects.get(trid=ODD)
    assert (len(odd.name), len(odd.consumer_facing_name)) == (64, 100)
    assert odd.name.endswith("…")  # visibly cut, not silently
    assert odd.consumer_facing_name.endswith("…")
    assert odd.wallet_id == ""
    hostile = TokenRequestor.objects.get(trid=HOSTILE)
    assert hostile.push_methods == [{"type": "IOS", "uri": "https://hostile.example/ios"}]
    assert hostile.image_asset_id == ""
    assert not [r for r in sandbox.request_log() if "admin" in r.get("path", "")]  # never fetched
    warnings = run.counts["warnings"]
    assert len([w for w in warnings if ODD in w]) == 3  # name, consumer-facing name, wallet id
    assert len([w for w in warnings if HOSTILE in w]) == 3  # two push methods, the asset id
    assert all(w in run.detail for w in warnings)
    assert not run.counts["errors"]


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"tokenRequestorType": "SUBSCRIPTION_SERVICE_PROVIDER"}, "tokenRequestorType"),
        ({"availablePushMethods": [{"type": "WEB", "uri": 5}]}, "unexpected type"),
        ({"consumerFacingEntityName": "Odd\u202eWallet"}, "consumerFacingEntityName"),
        ({"name": "   "}, "name"),
    ],
)
def test_a_requestor_that_cannot_be_stored_is_skipped_and_its_last_good_version_kept(
    sandbox_network_config: NetworkConfiguration, sandbox: SandboxServer, change: dict[str, Any], reason: str
) -> None:
    _register(sandbox, ODD, consumerFacingEntityName="Odd Wallet")
    refresh.token_requestors_refresh()
    TokenRequestor.objects.filter(trid=ODD).update(offered=True)
    _register(sandbox, ODD, **{"consumerFacingEntityName": "Odd Wallet", **change})
    _register(sandbox, HOSTILE, **change)  # and one never seen before

    run = refresh.token_requestors_refresh()

    assert run.state == JobRun.State.SUCCEEDED
    kept = TokenRequestor.objects.get(trid=ODD)
    assert (kept.consumer_facing_name, kept.name, kept.requestor_type) == ("Odd Wallet", "Odd Wallet", "WALLET")
    assert kept.offered
    assert kept.retired_at is None
    assert not TokenRequestor.objects.filter(trid=HOSTILE).exists()
    assert TokenRequestor.objects.filter(trid__in=[DEMOPAY, SUNDAY_STORE, CLICK_TO_PAY], retired_at=None).count() == 3
    skipped = [w for w in run.counts["warnings"] if "skipped" in w]
    assert len(skipped) == 2
    assert all(reason in w for w in skipped)


def test_management_command_lists_the_warnings(
    sandbox_network_config: NetworkConfiguration, sandbox: SandboxServer, capsys: Any
) -> None:
    _register(sandbox, ODD, name="L" * 80)
    call_command("refresh_token_requestors")
    out = capsys.readouterr().out
    assert f"token requestor {ODD}: name cut to 64 characters (MDES sent 80)" in out
    assert "0 skipped" in out
    assert "Refreshed:" in out
