"""r2async._client."""
