"""Run the CLI as ``python -m voiceguide``."""

from voiceguide.cli import main

main()
