"""Release toolkit for web-transport-python: one CLI (``python -m release``) that the
maintainer and the workflows both call, so what a release checks is written once."""
