"""Experiment settings the CLI shows in its help (a module light enough for its start)."""

# The sequential test's tuning parameter (gbstats' default): the sample size at which the
# always-valid interval is tightest.
DEFAULT_SEQUENTIAL_TUNING = 5000.0
