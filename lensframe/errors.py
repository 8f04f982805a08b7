"""Exceptions raised by lensframe. Each names the thing that is wrong: a parameter, a key, a file or
a plugin, so a user can fix it without reading a traceback."""

from __future__ import annotations


class LensframeError(Exception):
    """Base class of every error lensframe raises on purpose."""


class UnknownComponentError(LensframeError, KeyError):
    """A profile, likelihood, solver or fitter name that no loaded plugin provides."""

    def __str__(self) -> str:  # KeyError would otherwise quote the message
        return str(self.args[0]) if self.args else ""


class DuplicateComponentError(LensframeError):
    """Two plugins registered the same name for the same kind of component."""


class PluginLoadError(LensframeError):
    """A plugin failed to import or to register (raised only in strict mode)."""


class ConfigError(LensframeError, ValueError):
    """A configuration file or dictionary is invalid; the message names the key."""


class DataError(LensframeError, ValueError):
    """Input data (image, noise map, PSF, photometry) is malformed; the message names the file."""


class ParameterError(LensframeError, ValueError):
    """Missing, extra or out-of-range model parameters; the message names the parameter."""
