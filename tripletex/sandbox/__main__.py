"""Run the sandbox without Django: `python -m tripletex.sandbox --db PATH [--port N]`."""

from .cli import main

main()
