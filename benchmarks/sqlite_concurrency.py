"""Benchmark: concurrent step-up verifications on the embedded SQLite database.

Each verification is a request through the whole portal (Django's test client) in its own thread, with its own
database connection, as a threaded or multi-process server runs them; all start together. Runs the portal's
settings (IMMEDIATE transactions, WAL) and, side by side, SQLite's defaults (deferred transactions, rollback
journal), and prints the errors of each (goal: 0 at 16 concurrent).

    .venv/bin/python benchmarks/sqlite_concurrency.py [--concurrent 16 --rounds 5]

Uses a throw-away SQLite file under the temporary directory.
"""

import argparse
import os
import re
import subprocess
import sys
import tempfile
import threading
from pathlib import Path
from typing import Any
from urllib.parse import quote

ROOT = Path(__file__).resolve().parent.parent
# SQLite's own defaults, which the portal's settings leave alone when the URL names them.
DEFAULTS_OPTIONS = "?transaction_mode=DEFERRED&init_command=" + quote("PRAGMA journal_mode=DELETE")


def _confirm_together(clients: list[Any], codes: list[str]) -> list[str]:
    """Every client posts its code at the same moment, each in its own thread; the status (or error) of each."""
    from django.db import connection

    start = threading.Barrier(len(clients))
    statuses: list[str] = []

    def confirm(client: Any, code: str) -> None:
        try:
            start.wait()
            answer = client.post(
                "/confirm-it-is-you/", {"action": "verify_code", "code": code, "next": "/"}, secure=True
            )
            statuses.append(str(answer.status_code))
        except Exception as error:
            statuses.append(f"{type(error).__name__}: {error}")
        finally:
            connection.close()

    threads = [threading.Thread(target=confirm, args=pair) for pair in zip(clients, codes, strict=True)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return statuses


def _child(concurrent: int, rounds: int) -> None:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
    import django

    django.setup()
    from django.core import mail
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import setup_test_environment

    from tests.factories import CardholderFactory

    setup_test_environment()  # codes go to mail.outbox

    call_command("migrate", verbosity=0)
    mode = connection.settings_dict["OPTIONS"].get("transaction_mode") or "DEFERRED"
    print(f"transaction mode {mode}", flush=True)
    errors = 0
    for number in range(rounds):
        clients, codes = [], []
        for person in range(concurrent):
            holder = CardholderFactory.create()
            client = Client(REMOTE_ADDR=f"192.0.2.{person + 1}", raise_request_exception=False)
            client.force_login(holder.user)
            client.post("/confirm-it-is-you/", {"action": "send", "channel": "email", "next": "/"}, secure=True)
            found = re.search(r"\b(\d{8})\b", str(mail.outbox[-1].body))
            if found is None:
                raise SystemExit("no code was sent")
            clients.append(client)
            codes.append(found.group(1))
        statuses = _confirm_together(clients, codes)
        failed = [status for status in statuses if status != "302"]
        errors += len(failed)
        print(
            f"round {number + 1}: {concurrent - len(failed)} confirmed, {len(failed)} errors {failed[:2]}", flush=True
        )
    print(f"errors {errors} of {concurrent * rounds}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--concurrent", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child(args.concurrent, args.rounds)
        return
    results = {}
    for name, options in (("portal settings", ""), ("SQLite defaults", DEFAULTS_OPTIONS)):
        with tempfile.TemporaryDirectory() as directory:
            env = {**os.environ, "DATABASE_URL": f"sqlite:///{directory}/bench.sqlite3{options}"}
            env.pop("REDIS_URL", None)
            command = [sys.executable, __file__, "--child", f"--concurrent={args.concurrent}"]
            command.append(f"--rounds={args.rounds}")
            output = subprocess.run(command, env=env, capture_output=True, text=True, check=True, cwd=ROOT).stdout
        lines = [line for line in output.splitlines() if not line.startswith("{")]
        print(f"[{name}]", *lines, sep="\n  ")
        results[name] = lines[-1]
    for name, summary in results.items():
        print(f"{name}: {summary} at {args.concurrent} concurrent (goal: 0)")


if __name__ == "__main__":
    main()
