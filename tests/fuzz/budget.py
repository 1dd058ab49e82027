"""How hard the fuzzers try. In the normal suite (and CI): a few examples each, derandomized (the same inputs every
run, so a failure is reproducible and nothing flickers), no deadline (no test depends on the machine's speed).

Longer, new inputs each run: set LEIFENG_FUZZ_EXAMPLES to the number of examples per fuzzer, e.g.

    LEIFENG_FUZZ_EXAMPLES=5000 python -m pytest -q -p no:cacheprovider tests/fuzz

A failure prints the smallest input hypothesis found and a `@reproduce_failure` line to replay it.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

EXAMPLES_ENV = "LEIFENG_FUZZ_EXAMPLES"

# the fuzzers share one app and database per test across examples on purpose (state piles up as in production)
_SHARED_FIXTURES = [HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large,
                    HealthCheck.filter_too_much]


def fuzz(quick: int) -> settings:
    """The settings for one fuzzer: `quick` examples in the normal suite, LEIFENG_FUZZ_EXAMPLES when set."""
    wanted = os.environ.get(EXAMPLES_ENV, "").strip()
    if wanted:
        return settings(max_examples=int(wanted), derandomize=False, deadline=None, database=None,
                        suppress_health_check=_SHARED_FIXTURES, print_blob=True)
    return settings(max_examples=quick, derandomize=True, deadline=None, database=None,
                    suppress_health_check=_SHARED_FIXTURES, print_blob=True)
