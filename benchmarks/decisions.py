"""Benchmark: the tokenization decision (POST /mdes-issuer/1/0/authorizeService) at 16 concurrent requests.

Gunicorn with the production settings and the issuer services on (signature checked, the funding account
decrypted with the portal's key), PostgreSQL, Redis. The requests are the sandbox MDES's own
(sandbox/issuer_services.py: a detached JWS over the body, the funding account encrypted to the portal's
certificate), built and signed before the clock starts, so only the round trip is timed. Each is a card typed into
DemoPay on a phone, a fresh token each time: the portal decrypts, finds the card, decides (REQUIRE_ADDITIONAL_
AUTHENTICATION, with the activation methods) and records the request and the token in progress. Prints p50 and p99
of the latency the caller sees and of the server's time from gunicorn's access log, and the workers' CPU a request
(from /proc, Linux).

    .venv/bin/python benchmarks/decisions.py [--requests 480]

Needs PostgreSQL and Redis; gunicorn runs with config/gunicorn.py (see benchmarks/stack.py). It drops and
recreates the tables of BENCH_DATABASE_URL (default: the `portal_perf_bench` database). A full run takes about a
minute.
"""

import argparse
import os
import statistics
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import stack

ENV = stack.bench_env()
KEYS = stack.ensure_demo_keys(stack.WORK / "keys")
ENV |= {
    "ISSUER_SERVICES_ENABLED": "1",
    "ISSUER_SERVICES_AUTHENTICATION": "signature",  # no TLS proxy in front to vouch for a client certificate
    "ISSUER_SERVICES_SIGNATURE_KEY_PATHS": str(KEYS.issuer_services_verification_key),
    "ISSUER_SERVICES_DECRYPTION_KEY_PATH": str(KEYS.issuer_decryption_p12),
    "ISSUER_SERVICES_DECRYPTION_KEY_PASSWORD": KEYS.issuer_decryption_p12_password,
}
os.environ.update(ENV)

import django  # noqa: E402

django.setup()

from requests.adapters import HTTPAdapter  # noqa: E402

from cardholders.models import Cardholder  # noqa: E402
from cardholders.services import card_create  # noqa: E402
from provisioning.selectors import account_range_starts_active  # noqa: E402
from sandbox.issuer_services import (  # noqa: E402 - benchmark tooling plays MDES, as the demo's sandbox does
    CardData,
    Device,
    IssuerServicesClient,
    SignedCall,
    new_correlation_id,
)
from sandbox.tokens import new_token_unique_reference  # noqa: E402
from users.models import User  # noqa: E402

CONCURRENT = 16
CARDS = 64
DEMOPAY = "50100000011"
PATH = "/mdes-issuer/1/0/authorizeService"


def _luhn_completed(digits: str) -> str:
    total = 0
    for index, digit in enumerate(reversed(digits)):
        value = int(digit) * (2 if index % 2 == 0 else 1)
        total += value - 9 if value > 9 else value
    return digits + str((10 - total % 10) % 10)


def _cards() -> list[CardData]:
    """CARDS cardholders with a mobile number and an e-mail address (so both code methods are offered), a card each."""
    starts = account_range_starts_active()
    cards = []
    for number in range(CARDS):
        user = User.objects.create_user(email=f"decide-{number}@bench.example")
        holder = Cardholder.objects.create(user=user, preferred_locale="en_US", phone_number=f"+1555555{number:04d}")
        account_number = _luhn_completed(f"555555555{number:06d}")
        card_create(
            card_number=account_number,
            account_range_starts=starts,
            expiry_month=12,
            expiry_year=2030,
            product_kind="debit",
            product_name="Bench Debit",
            cardholder=holder,
            program=None,
        )
        cards.append(CardData(account_number, "12", "30", "123"))
    return cards


def _calls(client: IssuerServicesClient, cards: list[CardData], count: int) -> list[SignedCall]:
    calls = []
    for number in range(count):
        payload = client.authorize_service_payload(
            cards[number % len(cards)],
            token_unique_reference=new_token_unique_reference(),
            correlation_id=new_correlation_id(),
            token_requestor_id=DEMOPAY,
            wallet_id="216",
            device=Device("Pixel 9 (bench)"),
            payment_app_instance_id=f"{number:048d}",
            decisioning={"recommendedDecision": "APPROVED", "deviceScore": "4", "accountScore": "4"},
            consumer_facing_name="DemoPay",
        )
        calls.append(client.sign("authorizeService", payload))
    return calls


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def _send_concurrently(client: IssuerServicesClient, calls: list[SignedCall]) -> list[float]:
    """CONCURRENT threads send their share of `calls`; the latency of each, in ms. Any answer but a decision ends
    the benchmark."""
    latencies: list[float] = []
    failures: list[str] = []

    def send(share: list[SignedCall]) -> None:
        for call in share:
            started = time.perf_counter()
            answer = client.send(call)
            latencies.append((time.perf_counter() - started) * 1000)
            if not answer.ok or "decision" not in answer.body:
                failures.append(f"{answer.status} {answer.body}")

    threads = [threading.Thread(target=send, args=(calls[number::CONCURRENT],)) for number in range(CONCURRENT)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if failures:
        raise SystemExit(f"{len(failures)} requests failed, e.g. {failures[:3]}")
    return latencies


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=480, help="measured, in all")
    args = parser.parse_args()
    if args.requests < CONCURRENT:
        parser.error(f"--requests must be at least {CONCURRENT}")
    with stack.running_stack(ENV) as running:
        client = IssuerServicesClient.for_keys(KEYS, f"{stack.PORTAL_URL}/mdes-issuer/1/0", timeout=60)
        client.session.mount("http://", HTTPAdapter(pool_maxsize=CONCURRENT))  # a kept connection per thread
        cards = _cards()
        # Unmeasured: each worker's first call loads the keys and opens its connections.
        _send_concurrently(client, _calls(client, cards, CONCURRENT * 2))
        calls = _calls(client, cards, args.requests)  # signed within the signature's 5 minutes, before the clock
        cpu_before, started = stack.worker_cpu_seconds(running.gunicorn), time.perf_counter()
        latencies = _send_concurrently(client, calls)
        seconds = time.perf_counter() - started
        cpu_ms = (stack.worker_cpu_seconds(running.gunicorn) - cpu_before) * 1000 / len(calls)
    records = stack.log_records(running)  # once gunicorn has stopped: a worker logs a request after answering it
    server_ms = [
        float(record["duration_ms"])
        for record in records
        if record.get("name") == "gunicorn.access" and record.get("path") == PATH and record.get("status") == 200
    ][CONCURRENT * 2 :]  # the unmeasured warm-up came first
    print(f"{len(latencies)} authorizeService requests at {CONCURRENT} concurrent in {seconds:.1f} s")
    print(f"worker CPU {cpu_ms:.1f} ms a request (what a busy machine does not change much)")
    for name, values in (("latency seen by MDES", latencies), ("server time", server_ms)):
        p50, p99 = _percentile(values, 0.5), _percentile(values, 0.99)
        print(f"[{name}] p50 {p50:.1f} ms, p99 {p99:.1f} ms (mean {statistics.mean(values):.1f} ms)")
    print("budget: ISSUER_SERVICES_RESPONSE_BUDGET_SECONDS (2 s by default) for every answer")


if __name__ == "__main__":
    main()
