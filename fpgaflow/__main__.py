"""``python -m fpgaflow`` runs the command line."""

from fpgaflow.cli import main

main()
