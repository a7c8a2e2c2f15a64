"""r2async._transports."""
