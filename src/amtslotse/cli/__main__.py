"""`python -m amtslotse.cli`: the same as the `amtslotse` command."""

from amtslotse.cli import run

run()
