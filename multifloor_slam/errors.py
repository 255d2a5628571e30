"""The package's exception hierarchy.

Foreign errors (OSError, YAMLError, rosbags' errors, torch errors) are translated at the layer
boundary into one of these, with a message that tells the user what to do.
"""


class MultifloorError(Exception):
    """Base class of every error this package raises on purpose."""


class ConfigError(MultifloorError):
    """A parameter, configuration or command-line value is invalid."""


class InputDataError(MultifloorError):
    """Input data (a log, a bag, an image, a message) cannot be used."""


class BagError(InputDataError):
    """A bag is missing, truncated, corrupt or lacks the topics asked for."""


class ModelError(MultifloorError):
    """A detector model file is missing, corrupt or unusable."""


class MapFileError(MultifloorError):
    """A map or building file cannot be written or read."""


__all__ = [
    'BagError',
    'ConfigError',
    'InputDataError',
    'MapFileError',
    'ModelError',
    'MultifloorError',
]
