"""Cluster conformance cases: harness.plugin judges, clusterside.plugin runs the cluster."""

from harness.plugin import *  # noqa: F401,F403  (hooks, options and fixtures)
from harness.plugin import _close_leftovers  # noqa: F401  (autouse fixture, private name)

pytest_plugins = ["clusterside.plugin"]
