"""Conditions under which a run cannot go on at all (the CLI maps every one to exit code 2).

Everything else a file can get wrong is a finding in the report, not an exception.
"""

from __future__ import annotations


class ChargemasterError(Exception):
    """A run cannot continue; the message is one line a user can act on."""


class InputError(ChargemasterError):
    """The chargemaster or the code map cannot be read or holds no usable table."""


class ConfigError(ChargemasterError):
    """The configuration file is unreadable or invalid."""


class OutputError(ChargemasterError):
    """The report cannot be written where asked."""
