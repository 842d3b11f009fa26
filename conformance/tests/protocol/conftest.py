"""Wire-level conformance cases; the harness plugin supplies targets, verdicts and reports."""

from harness.plugin import *  # noqa: F401,F403  (hooks, options and fixtures)
from harness.plugin import _close_leftovers  # noqa: F401  (autouse fixture, private name)
