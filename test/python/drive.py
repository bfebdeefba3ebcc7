"""Drives the api role with evergreen_client for test/python-client.test.ts and prints one JSON line per observation.

The assertions live in the TypeScript test; this script only acts and reports. It exits non-zero (with the reason on
stderr) on anything it did not expect to have to report, so a broken client fails the test too.

    EVERGREEN_API_URL=... EVERGREEN_API_KEY=... python3 drive.py import < connection.json
    ... CONNECTION_ID=... WATCH_DISTINCT=3 WATCH_SECONDS=30 python3 drive.py watch
    ... CONNECTION_ID=... KEY_WITHOUT_TOKENS=... KEY_CONFINED=... python3 drive.py refusals
"""

from __future__ import annotations

import json
import os
import sys
import time
from typing import Any

from evergreen_client import EvergreenClient, Response


def emit(event: str, **fields: Any) -> None:
    print(json.dumps({"event": event, **fields}), flush=True)


def as_fields(response: Response) -> dict[str, Any]:
    return {"status": response.status, "contentType": response.content_type, "body": response.body}


def client(key_variable: str = "EVERGREEN_API_KEY") -> EvergreenClient:
    return EvergreenClient(os.environ["EVERGREEN_API_URL"], os.environ[key_variable])


def import_connection() -> None:
    connection = json.load(sys.stdin)
    emit("imported", **as_fields(client().request("POST", "/v1/connections", body=connection)))


def watch() -> None:
    """Reads the token until it has seen WATCH_DISTINCT different ones (the workers rotate it) or time runs out."""
    api = client()
    connection_id = os.environ["CONNECTION_ID"]
    wanted = int(os.environ.get("WATCH_DISTINCT", "3"))
    deadline = time.monotonic() + float(os.environ.get("WATCH_SECONDS", "30"))
    seen: list[str] = []
    while len(seen) < wanted and time.monotonic() < deadline:
        read_at_ms = int(time.time() * 1000)
        # 1 s: ask only that the token outlive this read, so the rotations seen are the workers' and not this read's.
        token = api.get_valid_access_token(connection_id, min_validity_seconds=1)
        emit("token", readAtMs=read_at_ms, **token)
        if token["accessToken"] not in seen:
            seen.append(token["accessToken"])
        # A read rate, not a wait for anything: each read stands on its own.
        time.sleep(0.1)
    emit("watched", distinct=len(seen))


def refusals() -> None:
    connection_id = os.environ["CONNECTION_ID"]
    missing_id = "no-such-connection"
    unscoped = client("KEY_WITHOUT_TOKENS")
    confined = client("KEY_CONFINED")
    cases = {
        "token without tokens:read": (unscoped, f"/v1/connections/{connection_id}/token"),
        "view with connections:read": (unscoped, f"/v1/connections/{connection_id}"),
        "confined: token of another provider's connection": (confined, f"/v1/connections/{connection_id}/token"),
        "confined: token of a missing connection": (confined, f"/v1/connections/{missing_id}/token"),
        "confined: view of another provider's connection": (confined, f"/v1/connections/{connection_id}"),
        "confined: view of a missing connection": (confined, f"/v1/connections/{missing_id}"),
    }
    for name, (api, path) in cases.items():
        emit("response", case=name, **as_fields(api.request("GET", path)))


SCENARIOS = {"import": import_connection, "watch": watch, "refusals": refusals}

if __name__ == "__main__":
    if len(sys.argv) != 2 or sys.argv[1] not in SCENARIOS:
        sys.exit(f"usage: drive.py {'|'.join(SCENARIOS)}")
    SCENARIOS[sys.argv[1]]()
