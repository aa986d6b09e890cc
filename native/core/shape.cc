#include "core/shape.h"

#include <sstream>

namespace tf {

int64_t checked_mul(int64_t a, int64_t b, const char* op, const char* what) {
  if (a == 0 || b == 0) return 0;
  TF_CHECK(a > 0 && b > 0, Range, op, ": ", what, " must be non-negative, got ", a < 0 ? a : b);
  TF_CHECK(a <= kMaxElements / b, Range, op, ": ", what, " element count overflows (", a, " x ", b, ")");
  return a * b;
}

int64_t checked_numel(const Dims& dims, const char* op, const char* what) {
  int64_t n = 1;
  for (int64_t d : dims) TF_CHECK(d >= 0, Range, op, ": ", what, " dims must be >= 0, got ", dims_str(dims));
  for (int64_t d : dims) n = checked_mul(n, d, op, what);
  return n;
}

std::string dims_str(const Dims& dims) {
  std::ostringstream os;
  os << '[';
  for (size_t i = 0; i < dims.size(); ++i) os << (i ? ", " : "") << dims[i];
  os << ']';
  return os.str();
}

int64_t window_out_size(int64_t in, int64_t k, int64_t stride, int64_t pad, int64_t dilation, bool ceil_mode,
                        const char* op, const char* axis) {
  TF_CHECK(k > 0, Range, op, ": kernel size along ", axis, " must be > 0, got ", k);
  TF_CHECK(stride > 0, Range, op, ": stride along ", axis, " must be > 0, got ", stride);
  TF_CHECK(dilation > 0, Range, op, ": dilation along ", axis, " must be > 0, got ", dilation);
  TF_CHECK(pad >= 0, Range, op, ": padding along ", axis, " must be >= 0, got ", pad);
  TF_CHECK(in >= 0 && in < (int64_t(1) << 40) && k < (int64_t(1) << 30) && stride < (int64_t(1) << 30) &&
               dilation < (int64_t(1) << 30) && pad < (int64_t(1) << 30),
           Range, op, ": size along ", axis, " out of range");
  const int64_t span = dilation * (k - 1) + 1;
  const int64_t avail = in + 2 * pad - span;
  TF_CHECK(avail >= 0, Range, op, ": kernel reach ", span, " exceeds padded input size ", in + 2 * pad, " along ",
           axis);
  int64_t out = ceil_mode ? (avail + stride - 1) / stride + 1 : avail / stride + 1;
  // PyTorch: the last window must start inside the input or left padding.
  if (ceil_mode && (out - 1) * stride >= in + pad) --out;
  return out;
}

int64_t strided_extent(const Dims& shape, const Dims& strides, int64_t offset, const char* op, const char* what) {
  TF_CHECK(shape.size() == strides.size(), Range, op, ": ", what, " has ", shape.size(), " dims but ",
           strides.size(), " strides");
  TF_CHECK(offset >= 0, Range, op, ": ", what, " offset must be >= 0, got ", offset);
  int64_t last = offset;
  for (size_t i = 0; i < shape.size(); ++i) {
    TF_CHECK(shape[i] >= 0, Range, op, ": ", what, " dims must be >= 0, got ", dims_str(shape));
    if (shape[i] == 0) return 0;
  }
  for (size_t i = 0; i < shape.size(); ++i) {
    TF_CHECK(strides[i] >= 0, Range, op, ": ", what, " strides must be >= 0, got ", dims_str(strides));
    const int64_t reach = checked_mul(shape[i] - 1, strides[i], op, what);
    TF_CHECK(last <= kMaxElements - reach, Range, op, ": ", what, " strided extent overflows");
    last += reach;
  }
  return last + 1;
}

}  // namespace tf
