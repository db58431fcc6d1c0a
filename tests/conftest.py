"""Shared test configuration: Hypothesis profiles.

``dev`` (the default) keeps the suite quick on a laptop; ``ci`` runs more examples
and is selected when ``CI`` is set (as ``.ci/run`` does) or by
``HYPOTHESIS_PROFILE=ci``.
"""

import os

from hypothesis import HealthCheck, settings

settings.register_profile("dev", max_examples=100, deadline=None)
settings.register_profile(
    "ci",
    max_examples=400,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") else "dev"))
