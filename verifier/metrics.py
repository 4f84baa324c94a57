"""Prometheus metrics of the verifier service (text exposition format, no extra dependency)."""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Mapping

__all__ = ["Metrics"]

_BUCKETS = (0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


class Metrics:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._requests: defaultdict[tuple[str, str], int] = defaultdict(int)
        self._verdicts: defaultdict[tuple[str, str], int] = defaultdict(int)
        self._buckets: defaultdict[str, list[int]] = defaultdict(lambda: [0] * len(_BUCKETS))
        self._sum: defaultdict[str, float] = defaultdict(float)
        self._count: defaultdict[str, int] = defaultdict(int)

    def request(self, endpoint: str, status: int, seconds: float) -> None:
        with self._lock:
            self._requests[(endpoint, str(status))] += 1
            buckets = self._buckets[endpoint]
            for i, bound in enumerate(_BUCKETS):
                if seconds <= bound:
                    buckets[i] += 1
            self._sum[endpoint] += seconds
            self._count[endpoint] += 1

    def verdict(self, input_kind: str, verdict: str) -> None:
        with self._lock:
            self._verdicts[(input_kind, verdict)] += 1

    def render(
        self,
        *,
        gauges: Mapping[str, tuple[str, float]] | None = None,
        counters: Mapping[str, tuple[str, float]] | None = None,
    ) -> str:
        """The exposition text; ``gauges`` and ``counters`` are read by the caller at scrape
        time (name → help, value)."""
        lines = []
        for kind, values in (("gauge", gauges or {}), ("counter", counters or {})):
            for name, (text, value) in values.items():
                lines += [
                    f"# HELP {name} {text}",
                    f"# TYPE {name} {kind}",
                    f"{name} {float(value)}",
                ]
        lines += [
            "# HELP ecert_verifier_requests_total Requests by endpoint and HTTP status.",
            "# TYPE ecert_verifier_requests_total counter",
        ]
        with self._lock:
            for (endpoint, status), n in sorted(self._requests.items()):
                lines.append(
                    f'ecert_verifier_requests_total{{endpoint="{endpoint}",status="{status}"}} {n}'
                )
            lines += [
                "# HELP ecert_verifier_verdicts_total Verdicts by input kind.",
                "# TYPE ecert_verifier_verdicts_total counter",
            ]
            for (kind, verdict), n in sorted(self._verdicts.items()):
                lines.append(
                    f'ecert_verifier_verdicts_total{{input="{kind}",verdict="{verdict}"}} {n}'
                )
            lines += [
                "# HELP ecert_verifier_request_seconds Request latency.",
                "# TYPE ecert_verifier_request_seconds histogram",
            ]
            for endpoint, buckets in sorted(self._buckets.items()):
                for bound, n in zip(_BUCKETS, buckets, strict=True):
                    lines.append(
                        f'ecert_verifier_request_seconds_bucket{{endpoint="{endpoint}",'
                        f'le="{bound}"}} {n}'
                    )
                lines.append(
                    f'ecert_verifier_request_seconds_bucket{{endpoint="{endpoint}",'
                    f'le="+Inf"}} {self._count[endpoint]}'
                )
                lines.append(
                    f'ecert_verifier_request_seconds_sum{{endpoint="{endpoint}"}} '
                    f"{self._sum[endpoint]:.6f}"
                )
                lines.append(
                    f'ecert_verifier_request_seconds_count{{endpoint="{endpoint}"}} '
                    f"{self._count[endpoint]}"
                )
        return "\n".join(lines) + "\n"
