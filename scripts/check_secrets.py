"""Fail on possible secrets that nobody reviewed: the CI side of .secrets.baseline.

detect-secrets-hook also fails when a reviewed finding merely moved to another line; this scans against a copy of
the baseline instead (keeping its review marks) and fails only on findings without `is_secret: false`. To review
new ones: `.venv/bin/detect-secrets scan --baseline .secrets.baseline && .venv/bin/detect-secrets audit
.secrets.baseline`.
"""

import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DETECT_SECRETS = Path(sys.executable).parent / "detect-secrets"


def main() -> int:
    with tempfile.TemporaryDirectory() as folder:
        copy = Path(folder) / "baseline.json"
        shutil.copy(ROOT / ".secrets.baseline", copy)
        subprocess.run([str(DETECT_SECRETS), "scan", "--baseline", str(copy)], cwd=ROOT, check=True)
        results = json.loads(copy.read_text())["results"]
    unreviewed = [
        f"{path}:{finding['line_number']} {finding['type']}"
        for path, findings in results.items()
        for finding in findings
        if finding.get("is_secret") is not False
    ]
    for line in unreviewed:
        print(f"possible secret, not reviewed: {line}")
    return 1 if unreviewed else 0


if __name__ == "__main__":
    sys.exit(main())
