"""The environment variables Northstar reads (a module light enough for the CLI's start)."""

WORKSPACE_VAR = "NORTHSTAR_WORKSPACE"  # the workspace folder when -w is not given
