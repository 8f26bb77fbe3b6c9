"""How many examples property tests try: a fixed set in the default run, more and new ones in the
soak run (docs/reliability.md).

The "ci" profile, loaded by tests/conftest.py for every run, is derandomized: `make test`, CI and
a developer try the same examples, each test as many as `examples(n)` asks, so the run's length is
known and a failure reproduces. `make soak` runs the property tests (pytest's `hypothesis` marker)
again under the "soak" profile: SOAK_FACTOR times as many examples, from a random seed, which a
failure prints for `@reproduce_failure`.
"""

from __future__ import annotations

from hypothesis import settings

CI_EXAMPLES = 100  # the "ci" profile's max_examples: what examples(n) counts are relative to
SOAK_FACTOR = 10


def register_profiles() -> None:
    settings.register_profile(
        "ci", max_examples=CI_EXAMPLES, derandomize=True, database=None, print_blob=True
    )
    settings.register_profile(
        "soak",
        max_examples=SOAK_FACTOR * CI_EXAMPLES,
        derandomize=False,
        database=None,
        print_blob=True,
    )


def examples(count: int) -> int:
    """`count` examples under the "ci" profile, as many times more as the loaded profile has."""
    return count * settings().max_examples // CI_EXAMPLES
