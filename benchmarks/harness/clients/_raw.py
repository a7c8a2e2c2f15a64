"""What the raw floors share: unsigned requests to prepared URLs, made before timing starts.

Against the sink (which checks nothing) the URLs are plain; against SeaweedFS, which refuses
unsigned requests, they are presigned with r2async before the first timed request, so the
floors' figures hold no signing cost. Not an adapter itself (the leading ``_``).
"""

from __future__ import annotations

from collections.abc import Sequence

from ..adapter import Adapter
from ..common import LIST_PREFIX


class RawAdapter(Adapter):
    """Unsigned requests to plain URLs (sink) or to URLs presigned before timing (SeaweedFS)."""

    _urls: dict[tuple[str, str], str]

    def _prepare_urls(self, keys: Sequence[str]) -> None:
        self._urls = {}
        base = self.endpoint.rstrip("/")
        if not self.cfg["presign"]:
            for key in keys:
                self._urls["PUT", key] = self._urls["GET", key] = f"{base}/{self.bucket}/{key}"
            self._urls["LIST", ""] = f"{base}/{self.bucket}?list-type=2&prefix={LIST_PREFIX}"
            return
        from r2async import R2Client

        signer = R2Client(
            endpoint_url=self.endpoint,
            access_key_id=self.cfg["access_key"],
            secret_access_key=self.cfg["secret_key"],
        )
        day = 86400
        for key in keys:
            self._urls["PUT", key] = signer.presign_put_object(self.bucket, key, expires_in=day).url
            self._urls["GET", key] = signer.presign_get_object(self.bucket, key, expires_in=day).url
        # No presign_list_objects: a signed list URL made by hand, with the same key pair.
        import httpx

        from r2async import Credentials, presign_url

        self._urls["LIST", ""] = presign_url(
            method="GET",
            url=httpx.URL(f"{base}/{self.bucket}?list-type=2&prefix={LIST_PREFIX}"),
            credentials=Credentials(self.cfg["access_key"], self.cfg["secret_key"]),
            expires_in=day,
        )

    def url(self, method: str, key: str) -> str:
        return self._urls[method, key]
