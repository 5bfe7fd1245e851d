"""Write the API's OpenAPI description to api/openapi.yaml (`make api-schema`); a test fails when they drift.

Run from the repository root: `.venv/bin/python scripts/api_schema.py` (the schema depends on the code only, so
the test settings, which need no secrets, are used unless DJANGO_SETTINGS_MODULE says otherwise).
"""

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
    import django

    django.setup()
    from api.schema import CHECKED_IN, openapi_yaml

    CHECKED_IN.write_bytes(openapi_yaml())
    print(f"Wrote {CHECKED_IN.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
