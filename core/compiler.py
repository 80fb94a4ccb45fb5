"""The placement of a network on the chip's macros, as a report: per layer its tiles, columns, macro,
phase, invocations and utilisation; per phase the weight writes an image costs.

The placement itself is :func:`core.mapping.place`; this module says what it means."""

from __future__ import annotations

from dataclasses import dataclass

from convsram.core import energy
from convsram.core.config import ChipConfig
from convsram.core.inference import partial_code_buffer_pj
from convsram.core.mapping import ArrayMap, place
from convsram.core.network import Model


@dataclass(frozen=True)
class LayerPlan:
    name: str
    kind: str
    rows: int  # rows of one filter
    tiles: int
    filters: int
    columns: int  # tiles x filters
    macro: int
    phase: int
    invocations: int  # per image
    utilisation: float  # cells used / cells an invocation could use (rows x one column per ADC group)
    macros: tuple[int, ...] = ()  # every macro holding a row tile (a layer larger than one macro: several)
    phases: tuple[int, ...] = ()  # every phase holding a row tile (larger than all the macros: several)

    @property
    def macro_text(self) -> str:
        return _span(self.macros or (self.macro,))

    @property
    def phase_text(self) -> str:
        return _span(self.phases or (self.phase,))


def _span(values: tuple[int, ...]) -> str:
    """'3' for one value, '3-5' for several."""
    return str(values[0]) if len(values) == 1 else f"{values[0]}-{values[-1]}"


@dataclass(frozen=True)
class PhasePlan:
    phase: int
    layers: tuple[str, ...]
    bits: int  # weight bits written to load the phase
    energy_pj: float  # that write's energy
    time_ns: float  # and its time (each tile's rows written one word line at a time)


@dataclass(frozen=True)
class Plan:
    config: ChipConfig
    layers: tuple[LayerPlan, ...]
    phases: tuple[PhasePlan, ...]
    buffer_pj_per_image: float = 0.0  # partial codes kept between the phases of layers larger than the chip

    @property
    def rewrites_per_image(self) -> int:
        """Weight loads an image needs: none if every layer stays resident, else one per phase."""
        return 0 if len(self.phases) == 1 else len(self.phases)

    @property
    def write_pj_per_image(self) -> float:
        return 0.0 if len(self.phases) == 1 else sum(p.energy_pj for p in self.phases)

    @property
    def write_ns_per_image(self) -> float:
        return 0.0 if len(self.phases) == 1 else sum(p.time_ns for p in self.phases)


def plan(model: Model, config: ChipConfig | None = None, amap: ArrayMap | None = None) -> Plan:
    """The placement of `model` on `config`'s macros (ValueError if one row tile's filters need more
    columns than a macro has)."""
    config = config or ChipConfig()
    amap = amap or place(model, config)
    per_image = amap.invocations_per_image()
    layers = []
    for li, spec in enumerate(amap.layers):
        cells = len(amap.windows[li]) * sum(
            (r1 - r0) * len(chunk) for (r0, r1), chunks in zip(spec.tiles, amap.chunks[li], strict=True)
            for chunk in chunks)
        capacity = per_image[li] * config.rows * config.adc_groups
        layers.append(LayerPlan(spec.name, spec.kind, spec.rows, spec.n_tiles, spec.out_channels,
                                spec.columns, amap.macro[li], amap.phase[li], per_image[li],
                                cells / capacity, amap.layer_macros(li), amap.layer_phases(li)))
    phases = []
    for p in range(amap.phases):
        held = [(li, amap.layers[li].tiles[t]) for li in amap.phase_layers(p)
                for t in amap.tiles_on(li, None, p)]
        names = tuple(dict.fromkeys(amap.layers[li].name for li, _ in held))
        bits = sum((r1 - r0) * amap.layers[li].out_channels for li, (r0, r1) in held)
        # as Chip.program books it: each tile's rows written one word line at a time
        rows = sum(r1 - r0 for _, (r0, r1) in held)
        phases.append(PhasePlan(p, names, bits, energy.write_energy_pj(bits), energy.write_time_ns(rows)))
    buffer = sum(partial_code_buffer_pj(amap, li) for li in range(len(amap.layers)))
    return Plan(config, tuple(layers), tuple(phases), buffer)


def format_plan(p: Plan, model_name: str = "") -> str:
    """The plan as a table for a terminal."""
    cfg = p.config
    macros = f"{cfg.macros} macro{'s' if cfg.macros > 1 else ''}"
    head = (f"placement of {model_name or 'the model'} on {macros} of {cfg.rows} rows x {cfg.columns} "
            f"columns ({cfg.adc_groups} ADCs each)")
    lines = [head, "",
             f"{'layer':10s} {'kind':5s} {'rows':>5s} {'tiles':>5s} {'filters':>7s} {'columns':>7s} "
             f"{'macro':>5s} {'phase':>5s} {'invocations':>11s} {'utilisation':>11s}"]
    for lp in p.layers:
        lines.append(f"{lp.name:10s} {lp.kind:5s} {lp.rows:5d} {lp.tiles:5d} {lp.filters:7d} {lp.columns:7d} "
                     f"{lp.macro_text:>5s} {lp.phase_text:>5s} {lp.invocations:11,d} "
                     f"{100 * lp.utilisation:10.1f}%")
    total = sum(lp.invocations for lp in p.layers)
    used = sum(lp.utilisation * lp.invocations for lp in p.layers) / max(total, 1)
    lines.append(f"{'total':10s} {'':5s} {'':5s} {'':5s} {'':7s} {sum(lp.columns for lp in p.layers):7d} "
                 f"{'':5s} {'':5s} {total:11,d} {100 * used:10.1f}%")
    lines.append("")
    if len(p.phases) == 1:
        lines.append(f"one phase: every weight stays resident ({p.phases[0].bits:,} bits written once, "
                     f"{p.phases[0].energy_pj / 1e3:.1f} nJ); no rewrites")
    else:
        lines.append(f"{len(p.phases)} phases: each image rewrites the weights {p.rewrites_per_image} times, "
                     f"{p.write_pj_per_image / 1e3:.1f} nJ and {p.write_ns_per_image / 1e3:.2f} us per image "
                     "(write energy and time from core/energy.py, [assumed])")
        for ph in p.phases:
            lines.append(f"  phase {ph.phase}: {', '.join(ph.layers)} ({ph.bits:,} bits, "
                         f"{ph.energy_pj / 1e3:.1f} nJ, {ph.time_ns:.0f} ns)")
    spanning = [lp.name for lp in p.layers if len(lp.phases) > 1]
    if spanning:
        lines.append(f"{', '.join(spanning)}: larger than every macro together, run phase by phase over all "
                     "output positions; the digital periphery keeps each position's partial codes in between "
                     f"(a buffer written and read back, {p.buffer_pj_per_image / 1e3:.1f} nJ per image in "
                     "the digital energy, [assumed] priced as SRAM bits)")
    lines.append("utilisation: cells used per invocation / (rows x one column per ADC)")
    return "\n".join(lines)
