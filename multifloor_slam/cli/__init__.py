"""The ``multifloor-slam`` command; one module per sub-command."""
