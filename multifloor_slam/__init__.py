"""multifloor_slam: multi-floor 2D mapping joined by elevator links."""

__version__ = '0.1.0'
__all__ = ['__version__']
