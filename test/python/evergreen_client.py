"""A minimal Evergreen api client in Python's standard library alone: what an app outside TypeScript writes.

Only urllib.request and json: the point is that a key and a URL are all an app needs (no database, no Redis, no
encryption key, no package).
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from typing import Any, Mapping, Optional


@dataclass(frozen=True)
class Response:
    status: int
    content_type: str
    body: Any


class EvergreenApiError(Exception):
    """A non-2xx answer: RFC 9457 problem details, whose stable `code` is what a caller branches on."""

    def __init__(self, response: Response) -> None:
        body = response.body if isinstance(response.body, dict) else {}
        self.status: int = response.status
        self.code: str = str(body.get("code", "ERR_UNKNOWN"))
        self.problem: Mapping[str, Any] = body
        # The title and code only: a problem body never holds a secret, but a message should not depend on that.
        super().__init__(f"{self.status} {self.code}: {body.get('title', '')}")


class EvergreenClient:
    def __init__(self, base_url: str, api_key: str, timeout_seconds: float = 10.0) -> None:
        self._base = base_url.rstrip("/")
        self._key = api_key
        self._timeout = timeout_seconds

    def request(
        self,
        method: str,
        path: str,
        body: Optional[Any] = None,
        query: Optional[Mapping[str, str]] = None,
    ) -> Response:
        """One call; answers every HTTP status as a Response (raises only when the network fails)."""
        url = self._base + path + ("?" + urllib.parse.urlencode(query) if query else "")
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(url, data=data, method=method)
        req.add_header("Authorization", f"Bearer {self._key}")
        req.add_header("Accept", "application/json")
        if data is not None:
            req.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(req, timeout=self._timeout) as res:
                return _read(res.status, res.headers.get("Content-Type", ""), res.read())
        except urllib.error.HTTPError as err:  # urllib raises for 4xx and 5xx; those are answers here
            with err:
                return _read(err.code, err.headers.get("Content-Type", ""), err.read())

    def enqueue_connection(self, connection: Mapping[str, Any]) -> dict[str, Any]:
        """POST /v1/connections: imports (201) or updates (200) a connection and schedules its refreshes."""
        return _ok(self.request("POST", "/v1/connections", body=dict(connection)))

    def get_connection(self, connection_id: str) -> dict[str, Any]:
        return _ok(self.request("GET", f"/v1/connections/{_segment(connection_id)}"))

    def get_valid_access_token(
        self, connection_id: str, min_validity_seconds: Optional[int] = None
    ) -> dict[str, Any]:
        """{type, accessToken, tokenType, expiresAt, scopes, provider, send} (docs/api.md), refreshed first when needed."""
        query = None if min_validity_seconds is None else {"minValiditySeconds": str(min_validity_seconds)}
        return _ok(self.request("GET", f"/v1/connections/{_segment(connection_id)}/token", query=query))


def _segment(value: str) -> str:
    return urllib.parse.quote(value, safe="")


def _read(status: int, content_type: str, raw: bytes) -> Response:
    body: Any = json.loads(raw) if raw else None
    return Response(status=status, content_type=content_type, body=body)


def _ok(response: Response) -> dict[str, Any]:
    if not 200 <= response.status < 300:
        raise EvergreenApiError(response)
    return response.body
