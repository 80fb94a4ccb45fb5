"""Tooltips that say where a view's numbers come from: the chip knobs behind it, with this chip's
values (in their display units) and each knob's documented source ([paper], [derived], [assumed]).
A view names a knob group ("array", "dac", "lines", "adc"); the knobs of a group are the ChipConfig
fields whose metadata puts them there (``core.config.knob_fields``)."""

from __future__ import annotations

from collections.abc import Sequence

from convsram.core.config import GROUPS, ChipConfig, KnobSpec, knob_fields


def group_knobs(group: str) -> tuple[KnobSpec, ...]:
    """The knobs of one group, in field order."""
    if group not in GROUPS:
        raise KeyError(f"unknown knob group {group!r}; one of {', '.join(GROUPS)}")
    return tuple(k for k in knob_fields() if k.group == group)


def knob_lines(config: ChipConfig, knobs: Sequence[KnobSpec]) -> str:
    return "\n".join(f"• {k.name} = {k.format(getattr(config, k.name))}: {k.doc}" for k in knobs)


def view_tip(intro: str, config: ChipConfig, group: str) -> str:
    return f"{intro}\n\nThis chip's settings behind it:\n{knob_lines(config, group_knobs(group))}"
