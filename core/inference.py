"""The analog inference path: the network's tiles evaluated by invocations of a Chip.

:class:`ChipEvaluator` is a ``partial_codes`` callable for :func:`core.network.forward`, so the digital
parts (tile sums, requantisation, pooling, scores) are the very code of the exact integer path; with
``ChipConfig.ideal()`` the two paths agree bit for bit.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from convsram.core import energy
from convsram.core.chip import BulkPlan, Chip, Invocation, WriteRecord, padded
from convsram.core.layers import WeightLayer
from convsram.core.mapping import ArrayMap, macro_chips, place
from convsram.core.network import Model, op_counts
from convsram.core.noise import KeyedNoise
from convsram.core.threads import run_blocks, spans

PATCH_ELEMENTS = 1 << 18  # row inputs per block of patches and DAC lookups [assumed: cache-sized]


@dataclass
class LayerLedger:
    """What one layer cost on the array: energy per component (pJ), invocations, time (ns)."""

    energy_pj: dict[str, float] = field(default_factory=energy.empty_ledger)
    invocations: int = 0
    time_ns: float = 0.0

    def add(self, inv: Invocation) -> None:
        self.add_totals(inv.energy_pj, inv.n_invocations, inv.time_ns)

    def add_totals(self, energy_pj: dict[str, float], invocations: int, time_ns: float) -> None:
        for k, v in energy_pj.items():
            self.energy_pj[k] += v
        self.invocations += invocations
        self.time_ns += time_ns


class ChipEvaluator:
    """partial_codes(layer, tile, x_tile) computed by the chip, with an energy ledger per layer.

    detail=True keeps every Invocation (line voltages, ideal codes, per-invocation energy) in
    ``records[(layer, tile, chunk)]`` for the frame-by-frame view; detail=False is the fast bulk path.
    rng: the per-operation noise stream (default: the chip's own), or a :class:`core.noise.KeyedNoise`
    for noise keyed on each image (results independent of the batching).
    """

    def __init__(self, chip: Chip, model: Model, amap: ArrayMap | None = None,
                 rng: np.random.Generator | KeyedNoise | None = None, detail: bool = False,
                 corrections: dict[tuple[int, int], tuple[np.ndarray, int]] | None = None) -> None:
        self.chip, self.model = chip, model
        self.amap = amap or place(model, chip.config)
        # macro 0 is `chip`, holding phase 0 (the caller programmed it); the others are built here
        used = self.amap.macros_used
        self.chips = macro_chips(chip, self.amap)
        self.resident = [0] * used  # the phase whose weights each macro holds
        # the other macros' first-phase weights, written once like macro 0's (the caller's)
        self.initial_writes = [w for m in range(1, used)
                               for w in self.amap.program(self.chips[m], model, 0, m)]
        # offset calibration (core/calibration.py CalibrationResult.loads): (phase, macro) -> (correction
        # per column, its register bits); a macro holding phase 0 starts with that phase's
        self.corrections = corrections or {}
        for m in range(used):
            if (0, m) in self.corrections:
                self.chips[m].set_correction(self.corrections[(0, m)][0])
        # where each (phase, macro)'s weights are written again for every image: (layer, tile) -> pairs
        self.starts = self.amap.phase_starts()
        self.rewrite_log: list[tuple[int, int, float, float]] = []  # (layer, tile, pJ, ns) of every rewrite
        self.rng, self.detail = rng, detail
        if isinstance(rng, KeyedNoise):
            rng.rows_first = detail  # detail draws (rows, columns); bulk draws (columns, rows)
        self.ledger = [LayerLedger() for _ in model.layers]
        self.requant_tables: dict[tuple, tuple[np.ndarray, int]] = {}  # made once for all batches
        self.work: dict[object, tuple[np.ndarray, int]] = {}  # the bulk path's work buffers (see _work)
        self.records: dict[tuple[int, int, int], Invocation] = {}

    def _rewrite(self, layer: int, tile: int, images: int) -> tuple[float, float]:
        """Before the first tile of a phase on a macro: its weights (and its offset correction, if
        calibrated) into that macro (simulated once per batch); returns what the writes cost for
        `images` images, (pJ, ns), to book with :meth:`_book` (a network in several phases writes
        them for every image): the correction registers as SRAM bit writes, one write cycle each
        [assumed, as core/calibration.py prices storing them]."""
        writes = []
        for phase, macro in self.starts.get((layer, tile), []):
            writes += self.amap.program(self.chips[macro], self.model, phase, macro)
            self.resident[macro] = phase
            if (phase, macro) in self.corrections:
                codes, bits = self.corrections[(phase, macro)]
                self.chips[macro].set_correction(codes)
                writes.append(WriteRecord(bits, 1, energy.write_energy_pj(bits), energy.write_time_ns(1)))
        return images * sum(w.energy_pj for w in writes), images * sum(w.time_ns for w in writes)

    def _book(self, layer: int, tile: int, cost: tuple[float, float]) -> None:
        """Add the rewrite before `tile`, (pJ, ns), to `layer`'s ledger (and to the rewrite log)."""
        self.ledger[layer].energy_pj["write"] += cost[0]
        self.ledger[layer].time_ns += cost[1]
        self.rewrite_log.append((layer, tile, *cost))

    def __call__(self, layer: int, tile: int, x_tile: np.ndarray) -> np.ndarray:
        spec = self.model.layers[layer]
        r0, r1 = spec.tiles[tile]
        if (layer, tile) in self.starts:
            self._book(layer, tile, self._rewrite(layer, tile, len(x_tile) // len(self.amap.windows[layer])))
        chip = self.chips[self.amap.macro_of(layer, tile)]
        adc_lsb = chip.adc_lsb_for(self.model.adc_step[layer], r1 - r0)
        out = np.empty((len(x_tile), spec.out_channels), dtype=np.int32)
        # the tile's chunks share their row inputs: one DAC lookup for all of them
        dv = chip.dac(chip.check_inputs(x_tile), np.float64 if self.detail else np.float32)
        for c, filters in enumerate(self.amap.chunks[layer][tile]):
            inv = chip.invoke_batch(x_tile, self.amap.columns[layer][tile, filters], adc_lsb, spec.mode,
                                         rng=self.rng, with_ideal=self.detail, detail=self.detail, dv=dv,
                                         validate=False)
            out[:, filters] = inv.codes
            self.ledger[layer].add(inv)
            if self.detail:
                self.records[(layer, tile, c)] = inv
        return out

    @property
    def max_code(self) -> int:
        """The highest ADC code (a tile's codes lie in -max_code..max_code)."""
        return self.chip.config.max_code

    def layer_codes(self, layer: int, node: WeightLayer, maps: np.ndarray) -> np.ndarray | None:
        """Summed codes P of weight layer `layer` for its input maps (batch, ...), every tile and chunk
        through the chip in bulk: (batch, *grid, filters) float32 (integer values; a view of a
        filters-first array). The same invocations, noise draws and ledger entries, in the same order,
        as calling this evaluator tile by tile. None with detail=True (the caller goes tile by tile)."""
        if self.detail:
            return None
        chips = [self.chips[self.amap.macro_of(layer, t)] for t in range(node.n_tiles)]
        chip = chips[0]
        cfg = chip.config
        if maps.size and (maps.min() < 0 or maps.max() > cfg.max_input):  # as chip.check_inputs says it
            raise ValueError(f"input codes must be in 0..{cfg.max_input} ({cfg.input_bits} b), "
                             f"got {maps.min()}..{maps.max()}")
        # the DAC's table index of every row input, made with the patches: code + its row's base (each
        # tile's own macro's DAC: a layer larger than one macro has its tiles on several)
        tables = [c.dac_table() for c in chips]
        kind = np.uint16 if tables[0].size <= 1 << 16 else np.intp
        local = np.concatenate([np.arange(r1 - r0) for r0, r1 in node.tiles])  # each row's place in its tile
        base = (local * (cfg.max_input + 1)).astype(kind)
        tile_of = np.concatenate([np.full(r1 - r0, t) for t, (r0, r1) in enumerate(node.tiles)])
        grid = self.model.graph.out_shape(layer)[:-1]
        positions = int(np.prod(grid, dtype=np.int64))
        batch = len(maps) * positions
        # the row drops of the layer, = chip.dac(x_tile).T tile after tile, rows first (a tile's rows
        # are then one contiguous (rows, batch) block: its matmul packs it twice as fast as the
        # transposed (batch, rows) block); patches and DAC lookup together, a few rows at a time
        # (a whole number of MATMUL_COLUMNS wide, zero beyond the batch: see chip.column_sums)
        width = padded(batch)
        dv_all = self._work("dv", [(node.rows, width)])[0]
        dv_all[:, batch:] = 0.0
        dvs = [dv_all[r0:r1] for r0, r1 in node.tiles]
        index_all = self._work("index", [(node.rows, batch)], kind)[0]
        source = node.row_source(maps)
        unit = node.row_unit

        def rows(j0: int, j1: int) -> None:
            index = index_all[j0:j1]
            node.rows_into(source, j0, j1, index, base[j0:j1])
            for t in np.unique(tile_of[j0:j1]):  # each row's own tile's DAC table
                a, b = max(j0, node.tiles[t][0]), min(j1, node.tiles[t][1])
                # every index is in range (codes checked above): "wrap" gathers faster than "clip"
                np.take(tables[t], index[a - j0:b - j0], out=dv_all[a:b, :batch], mode="wrap")

        run_blocks(rows, spans(node.rows, unit, max(unit, PATCH_ELEMENTS // max(batch, 1))))
        p = np.empty((node.out_channels, batch), dtype=np.float32)
        time_ns = batch * energy.invocation_time_ns(cfg)
        # every invocation of the layer, tile by tile, its plan and noise draws fixed in that order
        calls = []
        rewrites = {}  # the rewrites before a tile (a layer larger than all the macros: within it)
        for t in self.amap.tile_order(layer):
            if (layer, t) in self.starts:
                rewrites[t] = self._rewrite(layer, t, len(maps))
            r0, r1 = node.tiles[t]
            n = r1 - r0
            adc_lsb = chips[t].adc_lsb_for(self.model.adc_step[layer], n)
            for c, filters in enumerate(self.amap.chunks[layer][t]):
                plan = chips[t].bulk_plan(n, self.amap.columns[layer][t, filters], adc_lsb, node.mode)
                calls.append((t, c, filters, plan, self._reserve(plan, batch)))
        results: dict[tuple[int, int], tuple[float, float]] = {}

        def run(chunk_calls: list) -> None:
            """One chunk of filters through every tile, in tile order (its codes add up in P)."""
            for t, c, filters, plan, draw in chunk_calls:
                out = self._work(("levels", c), [(len(plan.m), width)])[0]  # the chunk's own
                dv_sum, steps = chips[t].bulk_into(dvs[t], plan, self.rng, len(maps), p, _as_slice(filters),
                                                   t > 0, draw, out)
                results[(t, c)] = (float(dv_sum.sum(dtype=np.float64)), steps)

        # chunks hold disjoint filters: with the draws reserved, they run side by side on the workers
        # (each matmul keeps its shape, each draw its keys: the same codes whatever the thread count)
        parts = self._by_chunk(calls, node.n_tiles)
        run_blocks(run, [(part,) for part in parts], blas=True)
        for t, c, filters, _, _ in calls:  # the ledger in the order of the invocations
            if c == 0 and t in rewrites:
                self._book(layer, t, rewrites[t])
            drop, steps = results[(t, c)]
            n = node.tiles[t][1] - node.tiles[t][0]
            self.ledger[layer].add_totals(energy.energy_total(cfg, n, batch, drop, len(filters), steps),
                                          batch, time_ns)
        return np.moveaxis(p.reshape(node.out_channels, len(maps), *grid), 0, -1)

    def _work(self, key: object, shapes: list[tuple[int, int]], dtype: type = np.float32) -> list[np.ndarray]:
        """C-contiguous work arrays (float32 or `dtype`) of `shapes` in one buffer kept under `key` from
        call to call (fresh arrays of megabytes cost page faults: measured 10 % of the bulk path), each
        starting on a 64-byte boundary. The buffer grows to the largest need; it lives as long as this
        evaluator."""
        item = np.dtype(dtype).itemsize
        sizes = [-(-(a * b) // (64 // item)) * (64 // item) for a, b in shapes]
        buf, skip = self.work.get(key, (None, 0))
        if buf is None or buf.dtype != dtype or buf.size < sum(sizes):
            buf = np.empty(sum(sizes) + 64 // item, dtype=dtype)
            skip = (-buf.__array_interface__["data"][0] % 64) // item  # (.ctypes costs ~1 % of the path)
            self.work[key] = (buf, skip)
        out, at = [], skip
        for (a, b), size in zip(shapes, sizes, strict=True):
            out.append(buf[at:at + a * b].reshape(a, b))
            at += size
        return out

    def _reserve(self, plan: BulkPlan, batch: int) -> tuple | None:
        """The keyed draws of one bulk call of `plan` over `batch` invocations, claimed now (None: the
        call draws its own noise, or has none)."""
        if plan.noise is None or not isinstance(self.rng, KeyedNoise) or self.rng.rows_first:
            return None
        return self.rng.reserve((len(plan.offset), batch))

    @staticmethod
    def _by_chunk(calls: list, tiles: int) -> list[list]:
        """The calls grouped by chunk of filters, each group in tile order, when every tile has the same
        chunks and no call draws from a shared sequential stream; else one group of all calls."""
        groups: dict[int, list] = {}
        for call in calls:
            groups.setdefault(call[1], []).append(call)
        split = (len(groups) > 1 and all(len(g) == tiles for g in groups.values())
                 and all(np.array_equal(call[2], g[0][2]) for g in groups.values() for call in g)
                 and not any(plan.noise is not None and draw is None for *_, plan, draw in calls))
        return list(groups.values()) if split else [calls]

    def totals(self) -> LayerLedger:
        total = LayerLedger()
        for led in self.ledger:
            for k, v in led.energy_pj.items():
                total.energy_pj[k] += v
            total.invocations += led.invocations
            total.time_ns += led.time_ns
        return total


def _as_slice(index: np.ndarray) -> slice | np.ndarray:
    """A run of consecutive indices as a slice (a view), any other index array as it is."""
    if index.size and np.array_equal(index, np.arange(index[0], index[0] + index.size)):
        return slice(int(index[0]), int(index[0]) + index.size)
    return index


def programmed_chip(model: Model, chip: Chip) -> tuple[ArrayMap, list]:
    """Place `model` on `chip` and write its weights (of the first phase, on the first macro: the
    evaluator writes the others); returns the map and the write records."""
    amap = place(model, chip.config)
    return amap, amap.program(chip, model)


def digital_energy_pj(model: Model, amap: ArrayMap | None = None) -> list[float]:
    """Digital periphery energy (pJ) of each layer for one image, from the network's op counts:
    partial-code adds, requantisation (multiply + add), pool compares and adds, residual adds, argmax
    compares (a digital node's work is booked to the weight layer before it); with the placement
    `amap`, also the buffer of partial codes of a layer larger than all the macros
    (:func:`partial_code_buffer_pj`)."""
    out = []
    for li, c in enumerate(op_counts(model)):
        out.append(c.tile_adds * energy.e("add") + c.requant_mults * energy.e("mult")
                   + c.requant_adds * energy.e("add")
                   + (c.pool_compares + c.argmax_compares) * energy.e("compare")
                   + (c.pool_adds + c.residual_adds) * energy.e("add")
                   + (partial_code_buffer_pj(amap, li) if amap is not None else 0.0))
    return out


def partial_code_buffer_pj(amap: ArrayMap, layer: int) -> float:
    """Energy (pJ, one image) of keeping a layer's partial codes between its phases (a layer larger than
    all the macros; 0 for any other): the partial code of every output position and filter written to
    a buffer in the periphery at the end of each phase but the last and read back in the next, each
    wide enough for the sum of every tile's codes (signed) [assumed: a bit written as into the array,
    write_bit; a bit read as from an 8 KB SRAM, sram_read32 / 32]."""
    phases = len(amap.layer_phases(layer))
    if phases < 2:
        return 0.0
    spec = amap.layers[layer]
    bits = int(np.ceil(np.log2(2 * spec.n_tiles * amap.config.max_code + 1)))
    values = len(amap.windows[layer]) * spec.out_channels * (phases - 1)
    return values * bits * (energy.e("write_bit") + energy.e("sram_read32") / 32)
