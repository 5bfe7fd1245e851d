"""Multi-process metrics: any process of the portal (web, worker, beat, a management command) can count first."""

import os
import subprocess
import sys
from pathlib import Path

from tests.servers import ROOT


def test_the_first_process_to_count_makes_the_metrics_directory(tmp_path: Path) -> None:
    directory = tmp_path / "not-yet" / "metrics"
    counted = subprocess.run(
        [sys.executable, "-c", "from core.metrics import JOB_RUNS; JOB_RUNS.labels(job='j', state='succeeded').inc()"],
        cwd=ROOT,
        env={**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(directory)},
        capture_output=True,
        text=True,
        check=False,
    )
    assert counted.returncode == 0, counted.stderr
    assert list(directory.glob("counter_*.db"))
