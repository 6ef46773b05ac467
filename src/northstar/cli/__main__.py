"""``python -m northstar.cli``."""

from northstar.cli.app import main

main()
