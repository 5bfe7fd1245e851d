"""The Prometheus alert rules (ops/prometheus-alerts.yml) load, and name only figures and labels the portal exports,
so renaming a metric cannot silently blind an alert."""

import re
from pathlib import Path

import yaml
from prometheus_client import Counter, Histogram

from core import metrics
from provisioning.expiry import EXPIRY_JOB
from provisioning.models import JobRun
from provisioning.refresh import REFRESH_JOB

RULES = Path(__file__).resolve().parents[2] / "ops" / "prometheus-alerts.yml"
EXTERNAL = {"probe_success"}  # the blackbox exporter's probe of /readyz
SERIES = re.compile(r"\b([a-z_]+(?:_total|_count|_bucket|_sum)|probe_success)(\{[^}]*\})?")


def exported() -> dict[str, set[str]]:
    """Every series name the portal exports, with the labels it carries."""
    names: dict[str, set[str]] = {}
    for value in vars(metrics).values():
        if isinstance(value, Counter):
            names[f"{value._name}_total"] = set(value._labelnames)
        elif isinstance(value, Histogram):
            for suffix in ("_bucket", "_count", "_sum"):
                names[value._name + suffix] = set(value._labelnames) | ({"le"} if suffix == "_bucket" else set())
    return names


def rules() -> list[dict]:
    document = yaml.safe_load(RULES.read_text())
    return [rule for group in document["groups"] for rule in group["rules"]]


def test_every_rule_has_a_severity_and_a_summary() -> None:
    loaded = rules()
    assert len(loaded) >= 5
    for rule in loaded:
        assert rule["alert"]
        assert rule["expr"]
        assert rule["labels"]["severity"] in {"page", "ticket"}
        assert rule["annotations"]["summary"]


def test_rules_name_only_exported_series_and_their_labels() -> None:
    series = exported()
    for rule in rules():
        for name, selector in re.findall(
            r"\b([a-z_]+(?:_total|_count|_bucket|_sum)|probe_success)(\{[^}]*\})?", rule["expr"]
        ):
            if name in EXTERNAL:
                continue
            assert name in series, f"{rule['alert']}: {name} is not exported"
            for label in re.findall(r"(\w+)\s*=", selector or ""):
                assert label in series[name], f"{rule['alert']}: {name} has no label {label}"


def test_job_names_and_states_in_rules_are_the_portals() -> None:
    text = RULES.read_text()
    for job in re.findall(r'job="(\w+)"', text):
        if job != "portal-readyz":
            assert job in {EXPIRY_JOB, REFRESH_JOB}
    states = set(JobRun.State.values)
    for state in re.findall(r'state="(\w+)"', text):
        assert state in states
