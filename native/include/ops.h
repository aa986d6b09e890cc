// The elementwise op lists, shared by the CPU and CUDA kernels and exported to TypeScript by name. The op table
// test (test/tensor/ops.test.ts) fails when a name here is reached by no op of the table, or when lib/kernels
// passes a name missing here. X(NAME, "jsName").
#pragma once

// y = f(x; a, b). Scalar arithmetic rides here too, so `x * 2` is one pass.
#define TF_UNARY_OPS(X)                                                                                       \
  X(NEG, "neg") X(ABS, "abs") X(SIGN, "sign") X(EXP, "exp") X(LOG, "log") X(LOG1P, "log1p") X(SQRT, "sqrt")   \
  X(RSQRT, "rsqrt") X(SQUARE, "square") X(RECIPROCAL, "reciprocal") X(SIN, "sin") X(COS, "cos")              \
  X(TANH, "tanh") X(SIGMOID, "sigmoid") X(RELU, "relu") X(LEAKY_RELU, "leakyRelu") X(ELU, "elu")              \
  X(GELU, "gelu") X(GELU_TANH, "geluTanh") X(SOFTPLUS, "softplus") X(CLAMP, "clamp") X(POW_SCALAR, "powScalar") \
  X(RPOW_SCALAR, "rpowScalar") X(ADD_SCALAR, "addScalar") X(MUL_SCALAR, "mulScalar") X(RSUB_SCALAR, "rsubScalar") \
  X(RDIV_SCALAR, "rdivScalar") X(FILL, "fill")

// y = f(a, b; alpha, beta). The *_BACKWARD entries are fused gradients: a is the upstream gradient,
// b the saved input x (or output y where named so).
#define TF_BINARY_OPS(X)                                                                                        \
  X(ADD, "add") X(SUB, "sub") X(MUL, "mul") X(DIV, "div") X(POW, "pow") X(MAXIMUM, "maximum")                   \
  X(MINIMUM, "minimum") X(RELU_BACKWARD, "reluBackward") X(LEAKY_RELU_BACKWARD, "leakyReluBackward")           \
  X(ELU_BACKWARD, "eluBackward") X(GELU_BACKWARD, "geluBackward") X(GELU_TANH_BACKWARD, "geluTanhBackward")    \
  X(SIGMOID_BACKWARD_Y, "sigmoidBackwardY") X(TANH_BACKWARD_Y, "tanhBackwardY")                                \
  X(SOFTPLUS_BACKWARD, "softplusBackward") X(CLAMP_BACKWARD, "clampBackward")

// bool (uint8) result.
#define TF_COMPARE_OPS(X) X(EQ, "eq") X(NE, "ne") X(LT, "lt") X(LE, "le") X(GT, "gt") X(GE, "ge")

// Reductions over the innermost dims of a (permuted) view.
#define TF_REDUCE_OPS(X)                                                                                    \
  X(SUM, "sum") X(MEAN, "mean") X(PROD, "prod") X(MAX, "max") X(MIN, "min") X(VAR, "var")                  \
  X(LOGSUMEXP, "logsumexp") X(NORM, "norm") X(ARGMAX, "argmax") X(ARGMIN, "argmin")

namespace tf {
#define TF_ENUM(name, js) name,
enum class UnaryOp { TF_UNARY_OPS(TF_ENUM) kCount };
enum class BinaryOp { TF_BINARY_OPS(TF_ENUM) kCount };
enum class CompareOp { TF_COMPARE_OPS(TF_ENUM) kCount };
enum class ReduceOp { TF_REDUCE_OPS(TF_ENUM) kCount };
#undef TF_ENUM
}  // namespace tf
