"""``python -m bayesmmm.cli``: the same as the ``bayesmmm`` command."""

from bayesmmm.cli import main

main()
