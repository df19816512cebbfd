"""The ONNX op categories every pass shares, defined once.

The ops fpgaflow lowers to hardware are the keys of the lowering table
(:data:`fpgaflow.lowering.LOWERINGS`); the categories here say what an op *is* (a quantizer, an
element-wise float op, a layer, a reshape), which the frontend, the edges and the lowerings
ask about. This module imports nothing, so any module may import it.
"""

#: Integer quantizers with (x, scale, zero point, bit width) inputs.
INT_QUANTIZERS = ("Quant", "IntQuant")
#: qonnx's quantizers with a scale input (x, scale, ...); they may quantize weights too.
SCALE_QUANTIZERS = INT_QUANTIZERS + ("BipolarQuant",)
#: Activation quantizers: their output is an integer code times a scale.
QUANTIZERS = SCALE_QUANTIZERS + ("MultiThreshold", "Trunc")
#: Brevitas' QCDQ export (export_onnx_qcdq), converted to Quant nodes by qonnx.
QCDQ = ("QuantizeLinear", "DequantizeLinear")
#: Element-wise float ops folded into thresholds between layers.
ELEMENTWISE = ("Add", "Sub", "Mul", "Div", "BatchNormalization", "Relu", "Identity")
#: Element-wise ops with a scalar constant that keep an integer grid affine.
AFFINE = ("Add", "Sub", "Mul", "Div")
#: Ops that change a tensor's shape but not its values or their order.
RESHAPES = ("Reshape", "Flatten", "Identity")
SHAPE_OPS = RESHAPES + ("Transpose",)
#: Layers: a matrix-vector unit each.
COMPUTE = ("MatMul", "Conv")
#: Ops the frontend rewrites into :data:`COMPUTE` ops (qonnx's GemmToMatMul).
REWRITTEN = ("Gemm",)
#: Ops with a kernel window over a feature map.
WINDOWED = ("Conv", "MaxPool", "AveragePool")
AVERAGE_POOLS = ("AveragePool", "GlobalAveragePool", "ReduceMean")
POOLS = ("MaxPool",) + AVERAGE_POOLS
#: Ops between a weight quantizer and its MatMul/Conv, replayed on the weight codes.
WEIGHT_SHAPE_OPS = ("Transpose", "Reshape", "Identity")
#: Ops that keep codes and scale between a quantizer and its reader.
TRANSPARENT = RESHAPES + ("MaxPool", "Transpose", "Pad")
#: Element-wise ops whose constant operands broadcast against a 3-D (N, C, L) tensor.
BROADCASTING = AFFINE + SCALE_QUANTIZERS + ("Trunc", "Max", "Min", "Where")
#: Ops that work on any rank unchanged.
RANK_FREE = ("Relu", "Identity", "Flatten", "BatchNormalization", "MatMul", "GlobalAveragePool", "Concat",
             "MultiThreshold", "Softmax", "LogSoftmax", "Sigmoid")
