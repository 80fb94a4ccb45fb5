"""Subcommands of `convsram`; each registers itself with :func:`convsram.cli.command`."""

from __future__ import annotations
