"""The package's exception hierarchy.

Foreign errors (OSError, YAMLError, rosbags' errors, torch errors) are translated at the layer
boundary into one of these, with a message that tells the user what to do.

The command line turns them into one line on stderr and an exit status (``EXIT_*`` below); an
exception that is not one of these (nor an OSError) is a bug and keeps its traceback.
"""

#: The command did all it was asked to.
EXIT_OK = 0
#: An unexpected exception (a bug): Python's own status, with the traceback.
EXIT_BUG = 1
#: Bad input or usage (a MultifloorError, an OSError on a given path, argparse's own errors).
EXIT_BAD_INPUT = 2
#: Done with part of the input: a bag that ends early or is corrupt, images that cannot be read.
#: The results were written; a warning line says how much was used.
EXIT_PARTIAL = 3
#: Interrupted (Ctrl-C).
EXIT_INTERRUPTED = 130


class MultifloorError(Exception):
    """Base class of every error this package raises on purpose."""


class ConfigError(MultifloorError):
    """A parameter, configuration or command-line value is invalid."""


class InputDataError(MultifloorError):
    """Input data (a log, a bag, an image, a message) cannot be used."""


class BagError(InputDataError):
    """A bag is missing, truncated, corrupt or lacks the topics asked for."""


class RouteError(InputDataError):
    """No route: an unknown floor, a start or goal outside free space, or an unreachable goal."""


class ModelError(MultifloorError):
    """A detector model file is missing, corrupt or unusable."""


class MapFileError(MultifloorError):
    """A map or building file cannot be written or read."""


__all__ = [
    'EXIT_BAD_INPUT',
    'EXIT_BUG',
    'EXIT_INTERRUPTED',
    'EXIT_OK',
    'EXIT_PARTIAL',
    'BagError',
    'ConfigError',
    'InputDataError',
    'MapFileError',
    'ModelError',
    'MultifloorError',
    'RouteError',
]
