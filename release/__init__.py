"""Release toolkit for web-transport-python.

One small CLI (``python -m release <subcommand>``) that the maintainer and the GitHub
workflows both call, so that what a release checks is written once, in Python, and the
workflows stay thin. Each subcommand lives in its own module; see ``__main__`` for the list.
"""
