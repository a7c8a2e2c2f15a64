"""Peak resident memory of one operation, inside a long-lived worker process (Linux)."""

from __future__ import annotations

import gc
import resource


def status_kib(field: str) -> int | None:
    """A ``/proc/self/status`` field in KiB (VmRSS, VmHWM), None where there is no /proc."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def _reset_peak() -> bool:
    # Linux: writing 5 to clear_refs resets VmHWM (the peak RSS) to the current RSS, which
    # gives a per-operation peak inside one process.
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


class PeakRSS:
    """Peak resident memory during a block, in MiB above the RSS at its start."""

    def __enter__(self) -> PeakRSS:
        gc.collect()
        self.base = status_kib("VmRSS") or 0
        self.exact = _reset_peak()
        self.start_max = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return self

    def __exit__(self, *exc: object) -> None:
        if self.exact:
            peak = status_kib("VmHWM") or 0
        else:  # ru_maxrss never goes down: only meaningful if this block set a new high
            peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        self.peak_mib = max(0.0, (peak - self.base) / 1024)
        self.rss_mib = peak / 1024
