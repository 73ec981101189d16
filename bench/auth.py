"""Benchmark 14: what verifying the bearer token costs per API request.

Every authenticated call verifies a Cognito ID token: RS256 signature against the pool's key
(JWKS fetched once per process, then cached), issuer, audience, expiry, ``token_use``, and the
claims mapped to a principal. Tokens are distinct (a new ``sub`` each), signed with moto's
pool key; the JWKS comes over HTTP from the bench's moto server, as on AWS from Cognito.
"""

from __future__ import annotations

import statistics
import time

from bench.report import Row
from bench.world import Sizes

__all__ = ["run"]


def run(sizes: Sizes) -> tuple[list[Row], list[str]]:
    from infra.moto_tokens import id_token
    from ripple import bootstrap

    bootstrap.reset()
    n = max(200, sizes.visits)
    tokens = [id_token("bench", f"e{i}", "employee" if i % 10 else "admin") for i in range(n)]
    verifier = bootstrap.verifier()
    start = time.perf_counter()
    verifier.verify(tokens[0])  # the process's first call fetches the JWKS
    first = time.perf_counter() - start
    samples = []
    for token in tokens[1:]:
        t = time.perf_counter()
        verifier.verify(token)
        samples.append(time.perf_counter() - t)
    samples.sort()
    p50 = statistics.median(samples)
    p95 = samples[int(len(samples) * 0.95)]
    rows = [
        Row(
            "14. token verification (JWKS cached) p50",
            f"{p50 * 1e6:.0f} us (p95 {p95 * 1e6:.0f} us)",
            "<= 1 ms",
            p95 <= 0.001,
        ),
        Row("14. first token of a process (JWKS fetch)", f"{first * 1000:.1f} ms", "", None),
        Row("14. JWKS fetches for all tokens", str(verifier.jwks.fetches), "1", verifier.jwks.fetches == 1),
    ]
    notes = [f"14: {n} distinct RS256 ID tokens; signature, iss, aud, exp, token_use checked for each."]
    return rows, notes
