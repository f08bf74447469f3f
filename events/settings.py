"""Each handler's environment is one pydantic model, validated at cold start."""

from __future__ import annotations

import os
from typing import TypeVar

from pydantic import BaseModel, ConfigDict

SettingsT = TypeVar("SettingsT", bound="Settings")


class Settings(BaseModel):
    # defer_build: a service module declares the settings of each of its functions; each
    # function builds the validator of its own only (cold start).
    model_config = ConfigDict(frozen=True, defer_build=True)

    @classmethod
    def from_env(cls: type[SettingsT]) -> SettingsT:
        """Fields are read from the upper-cased environment variables of the same name."""
        values = {name: os.environ[name.upper()] for name in cls.model_fields if name.upper() in os.environ}
        return cls.model_validate(values)
