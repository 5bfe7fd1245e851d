import socket
from typing import Any

from celery import current_app
from django.core.management.base import BaseCommand, CommandError, CommandParser


class Command(BaseCommand):
    help = "Exit 0 when the Celery worker answers a ping within the timeout (the worker container's health check)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--destination",
            default=f"celery@{socket.gethostname()}",
            help="the worker's node name (default: this host's default worker)",
        )
        parser.add_argument("--timeout", type=float, default=5.0, help="seconds to wait for the answer")

    def handle(self, *args: Any, **options: Any) -> None:
        destination = options["destination"]
        replies = current_app.control.ping(destination=[destination], timeout=options["timeout"])
        if not any(destination in reply for reply in replies or []):
            raise CommandError(f"The worker {destination} did not answer within {options['timeout']:g} s")
        self.stdout.write(f"The worker {destination} answered.")
