"""Reading a component's settings from the environment, one way for every component.

Every process of the lab has a pydantic-settings class (``AIOPS_<COMPONENT>_*``). This module turns a
validation failure into one line per bad variable, naming the variable, its value and the rule
(``AIOPS_PAGER_HEARTBEAT_TIMEOUT_S='-1': Input should be greater than 0``), and gives each ``__main__``
the same exit: status 2, no traceback. It also starts the app under uvicorn with the lab's flags.
"""

from __future__ import annotations

import contextlib
import os
import sys
from typing import Any, TypeVar

from pydantic import ValidationError
from pydantic_settings import BaseSettings

from aiops_core.errors import LabError

S = TypeVar("S", bound=BaseSettings)


class SettingsError(LabError, ValueError):
    """A setting is malformed; the message names the environment variable and what is accepted."""


def env_name(cls: type[BaseSettings], loc: tuple[Any, ...]) -> str:
    """The environment variable behind a field (its alias when it has one, else prefix + name)."""
    if not loc:
        return ""
    aliases = {f.validation_alias for f in cls.model_fields.values() if isinstance(f.validation_alias, str)}
    if str(loc[0]) in aliases:  # pydantic reports an aliased field under its alias
        return str(loc[0])
    field = cls.model_fields.get(str(loc[0]))
    if field is not None and isinstance(field.validation_alias, str):
        return field.validation_alias
    prefix = str(cls.model_config.get("env_prefix", ""))
    return (prefix + "_".join(str(p) for p in loc)).upper()


def describe(cls: type[BaseSettings], exc: ValidationError) -> str:
    lines = []
    for err in exc.errors():
        name = env_name(cls, tuple(err["loc"]))
        msg = str(err["msg"]).removeprefix("Value error, ")
        if not name:
            lines.append(msg)
            continue
        raw = os.environ.get(name)
        lines.append(f"{name}={raw!r}: {msg}" if raw is not None else f"{name}: {msg}")
    return "; ".join(lines)


def load(cls: type[S], **overrides: Any) -> S:
    """An instance of ``cls`` from the environment (``overrides`` win); ``SettingsError`` naming the variables."""
    try:
        return cls(**overrides)
    except ValidationError as exc:
        raise SettingsError(describe(cls, exc)) from None
    except ValueError as exc:  # a default_factory refused its own variable (e.g. a port)
        raise SettingsError(str(exc)) from None


def load_or_exit(cls: type[S], component: str) -> S:
    """``load`` for a ``__main__``: a bad setting prints ``error: ...`` and exits 2 before binding a port."""
    try:
        return load(cls)
    except SettingsError as exc:
        print(f"error: {component}: {exc.message}", file=sys.stderr)
        sys.exit(2)


def serve(app: Any, *, host: str, port: int, log_level: str, grace_s: float, factory: bool = False) -> None:
    """Run ``app`` under uvicorn the lab's way: JSON logs, no uvicorn access log (the apps log their own or
    nothing), no Server header, and a bounded graceful shutdown so SIGTERM flushes what was acknowledged."""
    import uvicorn

    from aiops_core.logging_setup import configure, log_config
    from aiops_core.uvicorn_server import QuietServer

    configure(log_level)
    # What uvicorn.run does for one worker without reload, with the once-a-second server (uvicorn_server.py).
    config = uvicorn.Config(app, factory=factory, host=host, port=port, log_config=log_config(log_level),
                            access_log=False, timeout_graceful_shutdown=int(grace_s), server_header=False)
    server = QuietServer(config)
    with contextlib.suppress(KeyboardInterrupt):
        server.run()
    if not server.started:
        sys.exit(uvicorn.config.STARTUP_FAILURE)  # e.g. the port is taken, as uvicorn.run exits
