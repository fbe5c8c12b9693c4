from web_transport._web_transport import __version__

__all__ = ["__version__"]
