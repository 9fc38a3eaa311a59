"""``python -m labs.cli`` == ``aiops-lab`` (handy in tests and when the console script is not on PATH)."""

from labs.cli.main import main

main()
