"""``python -m impactlens.cli`` runs the command line."""

from impactlens.cli.app import main

main()
