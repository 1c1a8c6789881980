"""The command line: every parser and command. Nothing in the library imports this package."""
