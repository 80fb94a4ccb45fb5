"""Export a model's exact integer path as a standard ONNX graph (the optional ``onnx`` extra).

The graph takes float pixels 0..255 shaped (N, 1, 28, 28) and gives the class scores (N, 10) as
doubles; its argmax is the prediction of the exact integer path, and so of the ideal chip. Ops: Cast,
Mul/Add/Div/Floor/Clip, Conv and MatMul (one per row tile, the tile's rows kept, the others zero:
every sum is an integer below 2^24, exact in float32), MaxPool, AveragePool, Transpose/Flatten. The
requantisation runs in double, as :func:`core.layers.arith.requantise` does.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from convsram.core.layers import INPUT, Add, AvgPool, Conv, Flatten, MaxPool, WeightLayer
from convsram.core.network import Model

OPSET = 17


def _onnx() -> Any:
    try:
        import onnx
    except ImportError:
        raise ValueError("ONNX support needs the onnx package: pip install 'convsram[onnx]'") from None
    return onnx


class _Builder:
    def __init__(self) -> None:
        self.onnx = _onnx()
        self.nodes: list[Any] = []
        self.inits: list[Any] = []
        self.count = 0

    def name(self, base: str) -> str:
        self.count += 1
        return f"{base}_{self.count}"

    def const(self, base: str, value: np.ndarray) -> str:
        n = self.name(base)
        self.inits.append(self.onnx.numpy_helper.from_array(np.asarray(value), n))
        return n

    def op(self, op: str, inputs: list[str], base: str, **attrs: Any) -> str:
        out = self.name(base)
        self.nodes.append(self.onnx.helper.make_node(op, inputs, [out], name=out, **attrs))
        return out


def export_model(model: Model, path: Path | str, max_code: int = 127, max_input: int = 127) -> Path:
    """Write `model`'s exact integer path to `path` (.onnx); ValueError if onnx is missing."""
    from convsram.core.files import atomic_path, check_output

    b = _Builder()
    onnx, helper = b.onnx, b.onnx.helper
    path = check_output(path, ("onnx",))
    graph = model.graph
    pix = "pixels"
    # input codes round_half_up(pix * M / 255) = floor((2 M pix + 255) / 510), in double (exact)
    x = b.op("Cast", [pix], "pix64", to=onnx.TensorProto.DOUBLE)
    x = b.op("Mul", [x, b.const("two_m", np.array(2.0 * max_input))], "scaled")
    x = b.op("Add", [x, b.const("half", np.array(255.0))], "shifted")
    x = b.op("Div", [x, b.const("den", np.array(510.0))], "ratio")
    x = b.op("Floor", [x], "codes64")
    values: dict[str, str] = {INPUT: b.op("Cast", [x], "codes", to=onnx.TensorProto.FLOAT)}  # NCHW float
    layout: dict[str, str] = {INPUT: "nchw"}
    for node in graph.nodes:
        ins = [values[n] for n in node.inputs]
        if isinstance(node, WeightLayer):
            li = graph.index[node.name]
            w = model.weights[li].astype(np.float32)  # (rows, F)
            src = ins[0]
            if isinstance(node, Conv):
                k, c = node.kernel, node.in_channels
            else:
                if layout[node.inputs[0]] == "nchw":  # fc rows are (h, w, c): NHWC, then flatten
                    src = b.op("Transpose", [src], "nhwc", perm=[0, 2, 3, 1])
                    src = b.op("Flatten", [src], "flat", axis=1)
            step = float(model.adc_step[li])
            lo = 0.0 if node.mode == "relu" else -float(max_code)
            total = None
            for r0, r1 in node.tiles:
                wt = np.zeros_like(w)
                wt[r0:r1] = w[r0:r1]
                if isinstance(node, Conv):
                    kernel = wt.reshape(k, k, c, -1).transpose(3, 2, 0, 1)  # (F, C, kh, kw)
                    pads = [node.padding] * 4
                    s = b.op("Conv", [src, b.const(f"{node.name}_w", kernel)], f"{node.name}_S",
                             kernel_shape=[k, k], strides=[node.stride] * 2, pads=pads)
                else:
                    s = b.op("MatMul", [src, b.const(f"{node.name}_w", wt)], f"{node.name}_S")
                q = b.op("Div", [s, b.const("step", np.array(step, np.float32))], f"{node.name}_q")
                q = b.op("Add", [q, b.const("half", np.array(0.5, np.float32))], f"{node.name}_q5")
                q = b.op("Floor", [q], f"{node.name}_r")
                p = b.op("Clip", [q, b.const("lo", np.array(lo, np.float32)),
                                  b.const("hi", np.array(float(max_code), np.float32))], f"{node.name}_p")
                total = p if total is None else b.op("Add", [total, p], f"{node.name}_P")
            assert total is not None
            shape = [1, -1, 1, 1] if isinstance(node, Conv) else [1, -1]
            alpha = model.alpha[li].astype(np.float64).reshape(shape)
            beta = model.beta[li].astype(np.float64).reshape(shape)
            u = b.op("Cast", [total], f"{node.name}_P64", to=onnx.TensorProto.DOUBLE)
            u = b.op("Mul", [u, b.const(f"{node.name}_alpha", alpha)], f"{node.name}_aP")
            u = b.op("Add", [u, b.const(f"{node.name}_beta", beta)], f"{node.name}_u")
            if graph.output == node.name:
                values[node.name] = u
                continue
            u = b.op("Add", [u, b.const("half64", np.array(0.5))], f"{node.name}_u5")
            u = b.op("Floor", [u], f"{node.name}_fl")
            top = b.const("max64", np.array(float(max_input)))
            u = b.op("Clip", [u, b.const("zero64", np.array(0.0)), top],
                     f"{node.name}_act64")
            values[node.name] = b.op("Cast", [u], f"{node.name}_act", to=onnx.TensorProto.FLOAT)
            layout[node.name] = "nchw" if isinstance(node, Conv) else "flat"
        elif isinstance(node, MaxPool):
            values[node.name] = b.op("MaxPool", ins, node.name, kernel_shape=[node.size] * 2,
                                     strides=[node.step] * 2)
            layout[node.name] = "nchw"
        elif isinstance(node, AvgPool):  # the mean rounded half up: floor(mean + 0.5)
            m = b.op("AveragePool", ins, node.name, kernel_shape=[node.size] * 2, strides=[node.step] * 2)
            m = b.op("Add", [m, b.const("half", np.array(0.5, np.float32))], f"{node.name}_5")
            values[node.name] = b.op("Floor", [m], f"{node.name}_out")
            layout[node.name] = "nchw"
        elif isinstance(node, Add):
            total = ins[0]
            for other in ins[1:]:
                total = b.op("Add", [total, other], f"{node.name}_sum")
            top = b.const("max", np.array(float(max_input), np.float32))
            zero = b.const("zero", np.array(0.0, np.float32))
            values[node.name] = b.op("Clip", [total, zero, top], node.name)
            layout[node.name] = layout[node.inputs[0]]
        elif isinstance(node, Flatten):
            src = ins[0]
            if layout[node.inputs[0]] == "nchw":
                src = b.op("Transpose", [src], "nhwc", perm=[0, 2, 3, 1])
            values[node.name] = b.op("Flatten", [src], node.name, axis=1)
            layout[node.name] = "flat"
        else:
            raise ValueError(f"{node.where()}: no ONNX export for this kind yet")
    scores = b.op("Identity", [values[graph.output]], "scores")
    g = helper.make_graph(
        b.nodes, "convsram_exact_path",
        [helper.make_tensor_value_info(pix, onnx.TensorProto.FLOAT, ["N", 1, 28, 28])],
        [helper.make_tensor_value_info(scores, onnx.TensorProto.DOUBLE, ["N", 10])], b.inits)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", OPSET)],
                          producer_name="convsram", doc_string="exact integer path of a convsram model")
    # the graph rides along, so that convsram imports its own export exactly (core/onnx_import.py)
    helper.set_model_props(m, {"convsram.graph": json.dumps(graph.to_list()),
                               "convsram.training": json.dumps(model.training, sort_keys=True)})
    onnx.checker.check_model(m)
    with atomic_path(path) as tmp:
        onnx.save(m, str(tmp))
    return path
