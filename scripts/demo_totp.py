"""Print the current authenticator (TOTP, RFC 6238) code of the demo's staff user: `make demo-totp`."""

import base64
import hashlib
import hmac
import json
import struct
import sys
import time
from pathlib import Path

CREDENTIALS = Path(__file__).resolve().parent.parent / ".demo" / "credentials.json"
PERIOD = 30


def totp(secret: str, at: float) -> str:
    key = base64.b32decode(secret, casefold=True)
    digest = hmac.new(key, struct.pack(">Q", int(at) // PERIOD), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    value = struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFFFFFF
    return f"{value % 1_000_000:06d}"


if __name__ == "__main__":
    if not CREDENTIALS.exists():
        sys.exit("No demo credentials yet: run `make demo` first.")
    now = time.time()
    code = totp(json.loads(CREDENTIALS.read_text())["staff_totp_secret"], now)
    print(f"{code}  (valid for {PERIOD - int(now) % PERIOD} more seconds)")
