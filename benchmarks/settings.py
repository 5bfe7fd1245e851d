"""The production settings plus one hello-world URL, the pages benchmark's yardstick (same settings, same
middleware)."""

from config.settings.base import *  # noqa: F403

ROOT_URLCONF = "benchmarks.urls"
# The benchmark's MDES is the local sandbox, which this check refuses outside development.
SILENCED_SYSTEM_CHECKS = ["provisioning.E001"]
