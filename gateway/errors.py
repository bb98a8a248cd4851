"""The exception tree of smsgw.

    SmsgwError                  base of everything we raise on purpose
    ├── ConfigError             the config file is missing, unreadable or invalid (key, value, expectation)
    ├── StoreError              the database cannot be opened, migrated or is corrupt
    ├── ModemError              a modem answered something we cannot use
    │   ├── ModemGone           the serial port vanished (unplug, EIO); the worker reconnects by identity
    │   ├── ModemTimeout        no final result code within the command's timeout
    │   └── CommandFailed       the modem answered ERROR / +CME ERROR / +CMS ERROR (carries the final code)
    └── UserInputError          something a person typed or imported is wrong; the message is for them

Exceptions from libraries (sqlite3, serial) are translated at the module that owns the library.
"""

from __future__ import annotations


class SmsgwError(Exception):
    """Base class of every error smsgw raises on purpose."""


class ConfigError(SmsgwError):
    """The configuration is missing or invalid; the message names the key, the value and what is expected."""


class StoreError(SmsgwError):
    """The database cannot be opened, migrated or used."""


class ModemError(SmsgwError):
    """A modem answered something the gateway cannot use."""


class ModemGone(ModemError):
    """The serial port vanished (unplugged, reset, EIO)."""


class ModemTimeout(ModemError):
    """The modem gave no final result code in time."""


class CommandFailed(ModemError):
    """The modem answered a command with an error final code."""

    def __init__(self, command: str, final: object, message: str | None = None) -> None:
        self.command = command
        self.final = final
        super().__init__(message or f"{command}: {getattr(final, 'text', final)}")


class UserInputError(SmsgwError):
    """Something a person typed or imported is wrong; the message is meant for them."""
