"""Runs the real `prodready` entry point with only the `load` command registered.

Tests start this as a subprocess so they exercise main()'s error handling and exit codes
without depending on the other command modules being importable.
"""

from prodready.cli import commands, main

if __name__ == "__main__":
    commands.COMMAND_MODULES = {"load": "prodready.cli.load"}
    main.main()
