"""The errors a user must act on (bad configuration, a week that cannot be run): one Thai line each."""
from __future__ import annotations


class ConfigError(Exception):
    """The configuration cannot be used; the message is one line for the user."""
