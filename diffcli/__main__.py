"""python -m diffcli"""

from diffcli.cli import main

if __name__ == "__main__":  # batch workers are spawned: they import this module, and must not run
    main()
