"""How the network sits on the array and becomes a sequence of invocations.

Placement [assumed]: a filter tile (one filter's rows r0..r1 of its flattened receptive field)
occupies one column, its weights down rows 0..r1-r0. The tiles x filters of a layer
are dealt round-robin over the ADC groups, ``unit u = tile * filters + filter`` going to group
``u % groups`` at slot ``base + u // groups`` (column = group * columns_per_group + slot), each layer
starting at a fresh slot. Consecutive units therefore sit in different groups, so up to 16 filters of
one tile run in one invocation.

Several macros and rewrites [assumed]: layers are placed in order, each whole on one macro, filling a
macro's slots before the next macro; when all ``config.macros`` macros are full, a new *phase* starts
and its layers overwrite the columns. A network of one phase is programmed once and its weights never
move; with several phases every image rewrites each phase's weights before running its layers (the
ledger books each macro's writes to the first tile it runs in the phase). A layer larger than one macro
has its row tiles dealt whole over several macros of one phase (from a fresh macro); a layer larger
than all the macros together goes on over further phases (from a fresh phase): each phase runs its row
tiles over every output position and the digital periphery keeps the partial codes of every position
until the last phase adds its own (its writes and reads are charged as digital energy:
core.inference.partial_code_buffer_pj).

Order of invocations for one image [assumed]: layer by layer; within a layer, phase by phase (one
phase, unless the layer is larger than all the macros); then output positions in row-major order; per
position, tile by tile; per tile, its chunks of up to one column per group.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace

import numpy as np

from convsram.core.chip import Chip, WriteRecord
from convsram.core.config import ChipConfig
from convsram.core.layers import Graph, WeightLayer
from convsram.core.network import LayersLike, Model, as_graph


@dataclass(frozen=True)
class Place:
    """Where one step of one image sits in the network: an invocation of the array, or (``node``
    set) one output position of a digital step between the layers: a graph node (a pool, a residual
    add), or (``op`` set) a weight layer's own digital work, named ``<layer>.<op>``: ``sum`` adds the
    row tiles' partial codes, ``requant`` scales, rounds and clips the total to the next layer's input
    codes, ``scores`` scales the output layer's total to the class scores. A digital step repeats every
    invocation field of the last invocation before it (the array rests, showing it), and says where
    the digital node is in ``node_step`` and ``node_window``."""

    index: int  # step number within the image, 0-based
    layer: int  # weight layer index
    layer_step: int  # invocation number within the layer, 0-based
    position: int  # output position (row-major window index; 0 for fc)
    window: tuple[int, int] | None  # (y, x) of the window's top-left input pixel (negative in the
    # padding); None for fc
    tile: int
    chunk: int
    rows: tuple[int, int]  # the tile's rows of the flattened receptive field, [r0, r1)
    filters: np.ndarray  # filters evaluated
    columns: np.ndarray  # their array columns
    node: str | None = None  # the digital node of a digital step; None for an invocation
    node_step: int = 0  # a digital step: its output position (row-major), 0-based
    node_window: tuple[int, int] | None = None  # and the top-left of the input window it reads
    op: str | None = None  # a weight layer's digital step: "sum", "requant" or "scores" (see LAYER_OPS)

    @property
    def invocation(self) -> bool:
        return self.node is None


@dataclass(frozen=True)
class ArrayMap:
    """Columns of every (layer, tile, filter) and the invocation chunks of every tile."""

    layers: tuple[WeightLayer, ...]
    config: ChipConfig
    columns: tuple[np.ndarray, ...]  # per layer: (n_tiles, filters) array column
    chunks: tuple[tuple[tuple[np.ndarray, ...], ...], ...]  # per layer, per tile: filter index arrays
    windows: tuple[tuple[tuple[int, int] | None, ...], ...] = ()  # per layer: each output position's window
    macro: tuple[int, ...] = ()  # per layer: the macro it runs on (its first, if split: tile_macro)
    phase: tuple[int, ...] = ()  # per layer: the phase (weights resident together) it belongs to
    tile_macro: tuple[tuple[int, ...], ...] = ()  # per layer, per row tile: the macro holding it
    tile_phase: tuple[tuple[int, ...], ...] = ()  # per layer, per row tile: the phase holding it

    @property
    def phases(self) -> int:
        return max((p for li in range(len(self.layers)) for p in self.layer_phases(li)), default=0) + 1

    def phase_of(self, layer: int, tile: int) -> int:
        """The phase whose weights hold row tile `tile` of `layer`."""
        return self.tile_phase[layer][tile] if self.tile_phase else self.phase[layer]

    def layer_phases(self, layer: int) -> tuple[int, ...]:
        """The phases holding `layer`'s row tiles, in order (one, unless the layer is larger than all
        the macros together)."""
        return tuple(dict.fromkeys(self.tile_phase[layer])) if self.tile_phase else (self.phase[layer],)

    def phase_layers(self, phase: int, macro: int | None = None) -> list[int]:
        """Layers with a row tile in `phase` (on `macro`, if given)."""
        return [li for li in range(len(self.layers)) if self.tiles_on(li, macro, phase)]

    def macro_of(self, layer: int, tile: int) -> int:
        """The macro holding row tile `tile` of `layer`."""
        return self.tile_macro[layer][tile] if self.tile_macro else self.macro[layer]

    def layer_macros(self, layer: int) -> tuple[int, ...]:
        """The macros holding `layer`'s row tiles (one, unless the layer is larger than a macro)."""
        return tuple(dict.fromkeys(self.tile_macro[layer])) if self.tile_macro else (self.macro[layer],)

    @property
    def macros_used(self) -> int:
        return max((m for li in range(len(self.layers)) for m in self.layer_macros(li)), default=0) + 1

    def tiles_on(self, layer: int, macro: int | None, phase: int | None = None) -> list[int]:
        """The row tiles of `layer` held by `macro` (any, if None), in `phase` (any, if None)."""
        return [t for t in range(self.layers[layer].n_tiles)
                if (macro is None or self.macro_of(layer, t) == macro)
                and (phase is None or self.phase_of(layer, t) == phase)]

    def tile_order(self, layer: int) -> list[int]:
        """`layer`'s row tiles in the order they run: phase by phase, then tile by tile."""
        return [t for p in self.layer_phases(layer) for t in self.tiles_on(layer, None, p)]

    def phase_starts(self) -> dict[tuple[int, int], list[tuple[int, int]]]:
        """(layer, tile) -> the (phase, macro) pairs whose weights are written just before that tile
        first runs (each macro's share of a phase, before its first tile in the order of invocations);
        empty when the network runs in one phase (its weights are written once)."""
        if self.phases == 1:
            return {}
        out: dict[tuple[int, int], list[tuple[int, int]]] = {}
        seen: set[tuple[int, int]] = set()
        for li in range(len(self.layers)):
            for t in self.tile_order(li):
                key = (self.phase_of(li, t), self.macro_of(li, t))
                if key not in seen:
                    seen.add(key)
                    out.setdefault((li, t), []).append(key)
        return out

    @property
    def used_columns(self) -> int:
        return int(sum(c.size for c in self.columns))

    def owner(self, phase: int = 0, macro: int = 0) -> np.ndarray:
        """(columns, 3) int array: layer, tile, filter of each array column of `macro` in `phase`
        (-1 where unused)."""
        out = np.full((self.config.columns, 3), -1, dtype=np.int64)
        for li in self.phase_layers(phase, macro):
            tiles = self.tiles_on(li, macro, phase)
            cols = self.columns[li][tiles]
            t, f = np.indices(cols.shape)
            out[cols.ravel()] = np.stack([np.full(cols.size, li), np.asarray(tiles)[t.ravel()], f.ravel()],
                                         axis=1)
        return out

    def invocations_per_position(self, layer: int) -> int:
        return sum(len(c) for c in self.chunks[layer])

    def invocations_per_image(self) -> list[int]:
        """Invocations of each layer for one image."""
        return [len(self.windows[li]) * self.invocations_per_position(li) for li in range(len(self.layers))]

    def contents(self, model: Model, phase: int = 0, macro: int = 0) -> np.ndarray:
        """(rows, columns) int8: what `macro` holds while `phase` is resident (0 where unprogrammed)."""
        out = np.zeros((self.config.rows, self.config.columns), np.int8)
        for li in self.phase_layers(phase, macro):
            for t in self.tiles_on(li, macro, phase):
                r0, r1 = self.layers[li].tiles[t]
                out[:r1 - r0, self.columns[li][t]] = model.weights[li][r0:r1]
        return out

    def program(self, chip: Chip, model: Model, phase: int = 0, macro: int = 0) -> list[WriteRecord]:
        """Write the weight tiles of the layers of `phase` on `macro` into their columns of `chip`
        (one phase: every layer, once; the weights never move)."""
        records = []
        for li in self.phase_layers(phase, macro):
            for t in self.tiles_on(li, macro, phase):
                r0, r1 = self.layers[li].tiles[t]
                records.append(chip.program(model.weights[li][r0:r1], columns=self.columns[li][t]))
        return records

    def places(self) -> Iterator[Place]:
        """Every invocation of one image, in order, with its place in the network."""
        index = 0
        for li, spec in enumerate(self.layers):
            step = 0
            for phase in self.layer_phases(li):
                tiles = self.tiles_on(li, None, phase)
                for pos, win in enumerate(self.windows[li]):
                    for t in tiles:
                        for c, filters in enumerate(self.chunks[li][t]):
                            yield Place(index=index, layer=li, layer_step=step, position=pos, window=win,
                                        tile=t, chunk=c, rows=spec.tiles[t], filters=filters,
                                        columns=self.columns[li][t][filters])
                            index += 1
                            step += 1


LAYER_OPS = ("sum", "requant", "scores")  # a weight layer's digital steps (Place.op), in this order


def layer_ops(graph: Graph, layer: int) -> list[str]:
    """The digital steps of weight layer `layer` after its invocations: the tile sum (only if its rows
    span several tiles), then the requantisation (the output layer: the class scores)."""
    spec = graph.layers[layer]
    return (["sum"] if spec.n_tiles > 1 else []) + ["scores" if graph.is_output(layer) else "requant"]


def timeline(graph: Graph, amap: ArrayMap) -> list[Place]:
    """Every step of one image in order: each weight layer's invocations, then its own digital steps
    (:func:`layer_ops`, one per output position each), and after the nodes they feed, each digital
    node's output positions (a max-pool, an average-pool, a residual add; a flatten moves no value and
    has none), in the graph's order. [assumed] The chip adds and requantises a position's codes as soon
    as its last tile is converted; the timeline shows these digital steps after the layer's invocations,
    as it shows the pools, so that each is one stage a student can step through."""
    by_layer: dict[int, list[Place]] = {}
    for p in amap.places():
        by_layer.setdefault(p.layer, []).append(p)
    out: list[Place] = []
    last: Place | None = None
    for node in graph.nodes:
        if isinstance(node, WeightLayer):
            li = graph.index[node.name]
            steps = by_layer[li]
            out += steps
            last = steps[-1]
            for op in layer_ops(graph, li):
                out += [replace(last, node=f"{node.name}.{op}", op=op, node_step=k, node_window=win)
                        for k, win in enumerate(amap.windows[li])]
        elif not node.reshape_only and last is not None:
            wins = node.step_windows(graph.in_shapes(node)[0], graph.shapes[node.name])
            out += [replace(last, node=node.name, node_step=k, node_window=win) for k, win in enumerate(wins)]
    return [replace(p, index=k) for k, p in enumerate(out)]


def macro_seed(seed: int, macro: int) -> int:
    """The seed of macro `macro` of chip `seed`: macro 0 is the chip itself; the others draw their own
    static mismatch from (seed, macro)."""
    if macro == 0:
        return seed
    return int(np.random.SeedSequence([seed, 1000 + macro]).generate_state(1)[0])


def macro_chips(chip: Chip, amap: ArrayMap) -> list[Chip]:
    """`chip` as macro 0 and, for every other macro `amap` uses, a chip of that macro's own seed."""
    return [chip] + [Chip(chip.config, macro_seed(chip.seed, m)) for m in range(1, amap.macros_used)]


def place(model: Model | LayersLike, config: ChipConfig | None = None) -> ArrayMap:
    """Deal the weight layers' filter tiles over the ADC groups of the macros, in phases if they do not
    fit at once; ValueError if one row tile's filters do not fit one macro. `model`: a Model, its Graph,
    or layers as :func:`core.network.as_graph` takes them."""
    config = config or ChipConfig()
    graph: Graph = model.graph if isinstance(model, Model) else as_graph(model)
    layers = graph.layers
    groups, per_group = config.adc_groups, config.columns_per_group
    for spec in layers:
        for r0, r1 in spec.tiles:
            if r1 - r0 > config.rows:
                raise ValueError(f"{spec.name}: a tile of {r1 - r0} rows exceeds the array's {config.rows}")
    base = macro = phase = 0
    columns, chunks, macros, phases, tile_macros, tile_phases = [], [], [], [], [], []
    for spec in layers:
        units = np.arange(spec.columns).reshape(spec.n_tiles, spec.out_channels)
        slots = -(-spec.columns // groups)
        if slots > per_group:  # larger than one macro: its row tiles go whole to several macros (phases)
            cols, tmacro, tphase, macro, phase, base = _split(spec, config, macro, phase, base)
            slot = np.array([base - 1])
        else:
            if base + slots > per_group:  # the macro is full: the next one, or a new phase
                base, macro = 0, macro + 1
                if macro == config.macros:
                    macro, phase = 0, phase + 1
            slot = base + units // groups
            cols = (units % groups) * per_group + slot
            tmacro, tphase = (macro,) * spec.n_tiles, (phase,) * spec.n_tiles
        macros.append(tmacro[0])
        tile_macros.append(tmacro)
        phases.append(tphase[0])
        tile_phases.append(tphase)
        columns.append(cols)
        tile_chunks = []
        for t in range(spec.n_tiles):
            run: list[int] = []
            seen: set[int] = set()
            out = []
            for f in range(spec.out_channels):
                g = int(cols[t, f]) // per_group
                if g in seen:
                    out.append(np.array(run))
                    run, seen = [], set()
                run.append(f)
                seen.add(g)
            out.append(np.array(run))
            tile_chunks.append(tuple(out))
        chunks.append(tuple(tile_chunks))
        base = int(slot.max()) + 1
    windows = tuple(tuple(spec.windows(graph.in_shape(li))) for li, spec in enumerate(layers))
    return ArrayMap(layers=tuple(layers), config=config, columns=tuple(columns), chunks=tuple(chunks),
                    windows=windows, macro=tuple(macros), phase=tuple(phases), tile_macro=tuple(tile_macros),
                    tile_phase=tuple(tile_phases))


def _split(spec: WeightLayer, config: ChipConfig, macro: int, phase: int, base: int
           ) -> tuple[np.ndarray, tuple[int, ...], tuple[int, ...], int, int, int]:
    """Columns of a layer larger than one macro, its row tiles dealt whole over macros (each tile's
    filters round-robin over the ADC groups from a fresh slot, as a layer's units), starting on a fresh
    macro; all its macros in one phase when the chip has enough, so the layer runs as one (its tiles'
    partial codes meet in the digital periphery as a layer's tiles do on one macro); else from a fresh
    phase over as many phases as it needs, every macro of each. Returns (columns, macro and phase of
    each tile, and the macro, phase and next free slot after it); ValueError if one tile's filters
    exceed a macro."""
    groups, per_group = config.adc_groups, config.columns_per_group
    tile_slots = -(-spec.out_channels // groups)
    if tile_slots > per_group:
        raise ValueError(f"{spec.name}: one row tile of {spec.out_channels} filters needs more than the "
                         f"{config.columns} columns of a macro; give the chip more columns (columns in a "
                         f"--config file)")
    per_macro = per_group // tile_slots
    need = -(-spec.n_tiles // per_macro)
    if base > 0:  # a fresh macro
        macro, base = macro + 1, 0
    if macro + need > config.macros and macro > 0:
        macro, phase = 0, phase + 1  # not enough macros left in this phase: a fresh one
    filters = np.arange(spec.out_channels)
    cols = np.empty((spec.n_tiles, spec.out_channels), dtype=np.int64)
    tmacro, tphase = [], []
    for t in range(spec.n_tiles):
        if base + tile_slots > per_group:
            macro, base = macro + 1, 0
            if macro == config.macros:  # every macro full: the layer goes on in the next phase
                macro, phase = 0, phase + 1
        cols[t] = (filters % groups) * per_group + base + filters // groups
        tmacro.append(macro)
        tphase.append(phase)
        base += tile_slots
    return cols, tuple(tmacro), tuple(tphase), macro, phase, base
