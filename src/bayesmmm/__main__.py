"""``python -m bayesmmm`` runs the CLI."""

from bayesmmm.cli import main

main()
