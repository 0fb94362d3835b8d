"""Keep host tools: the library behind the `keep` command.

Layers, bottom up: transport (bytes only) -> device protocol (raw REPL,
trace frames) -> operations (deploy, flash, monitor) -> CLI.
"""

__version__ = "0.1.0"
