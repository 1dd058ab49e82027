"""Property-based fuzzers (hypothesis) for the webhook and the dialogue: brief in the normal suite, longer on request
(LEIFENG_FUZZ_EXAMPLES, see tests/fuzz/budget.py)."""
