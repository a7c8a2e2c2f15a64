"""r2async._signing."""
