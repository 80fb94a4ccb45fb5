"""Layer kinds as classes (one per kind, registered by its tag) and the graph that chains them."""

from convsram.core.layers.base import INPUT, REGISTRY, Node, RunContext, Shape, TrainContext, register
from convsram.core.layers.digital import Add, AvgPool, Flatten, MaxPool
from convsram.core.layers.graph import IMAGE_SHAPE, N_CLASSES, Graph, from_v1
from convsram.core.layers.weighted import FC, Conv, WeightLayer

__all__ = ["INPUT", "REGISTRY", "Node", "RunContext", "Shape", "TrainContext", "register", "Add", "AvgPool",
           "Flatten", "MaxPool", "IMAGE_SHAPE", "N_CLASSES", "Graph", "from_v1", "FC", "Conv", "WeightLayer"]
