#include "core/nn.h"

#include <cmath>

#include "core/shape.h"

namespace tf {

void validate_dropout(const DropoutParams& params, const char* op) {
  TF_CHECK(params.p >= 0 && params.p <= 1, Range, op, ": p must be in [0, 1], got ", params.p);
}

int64_t validate_prelu(const PreluParams& params, const char* op) {
  const int64_t n = checked_numel({params.N, params.C, params.L}, op, "x");
  TF_CHECK(params.num_weights == 1 || params.num_weights == params.C, Range, op,
           ": numWeights must be 1 or C = ", params.C, ", got ", params.num_weights);
  return n;
}

UpsampleMode parse_upsample_mode(const std::string& mode, const char* op) {
  if (mode == "nearest") return UpsampleMode::Nearest;
  if (mode == "bilinear") return UpsampleMode::Bilinear;
  fail(ErrorKind::Range, op, ": mode must be 'nearest' or 'bilinear', got '", mode, "'");
}

Upsample2dNumel validate_upsample2d(const Upsample2dParams& p, const char* op) {
  TF_CHECK(p.in_h >= 1 && p.in_w >= 1, Range, op, ": input height and width must be >= 1, got ", p.in_h, " x ",
           p.in_w);
  TF_CHECK(p.out_h >= 1 && p.out_w >= 1, Range, op, ": output height and width must be >= 1, got ", p.out_h, " x ",
           p.out_w);
  TF_CHECK(std::isfinite(p.scale_h) && p.scale_h >= 0, Range, op, ": scaleH must be finite and >= 0, got ",
           p.scale_h);
  TF_CHECK(std::isfinite(p.scale_w) && p.scale_w >= 0, Range, op, ": scaleW must be finite and >= 0, got ",
           p.scale_w);
  TF_CHECK(!p.align_corners || p.mode == UpsampleMode::Bilinear, Range, op,
           ": alignCorners can only be set with mode 'bilinear'");
  return {checked_numel({p.N, p.C, p.in_h, p.in_w}, op, "x"), checked_numel({p.N, p.C, p.out_h, p.out_w}, op, "y")};
}

}  // namespace tf
