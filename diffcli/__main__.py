"""python -m diffcli"""

from diffcli.cli import main

main()
