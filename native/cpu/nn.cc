#include "cpu/nn.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "core/thread_pool.h"

namespace tf::cpu {
namespace {

// One output coordinate's source taps along an axis: count 1 (nearest, or same size) or 2 (bilinear).
template <class T>
struct Taps {
  int64_t index[2];
  T weight[2];
  int count;
};

// PyTorch's compute_scales_value: 1 / scale when a scale factor was given, else in / out.
template <class S>
S scales_value(double scale, int64_t in, int64_t out) {
  return scale > 0 ? S(1.0 / scale) : S(in) / S(out);
}

// A floored source coordinate as an index in [0, in - 1]. A tiny scale factor makes 1 / scale (and so the
// coordinate) Inf or NaN (0 * Inf); converting those to int64 is undefined and indexed out of bounds.
template <class F>
int64_t clamp_index(F coord, int64_t in) {
  if (!(coord > F(0))) return 0;
  return coord < F(in - 1) ? int64_t(coord) : in - 1;
}

// Nearest: exact identity and 2x paths, otherwise floor(dst * scale) computed in float as PyTorch does.
template <class T>
Taps<T> nearest_taps(int64_t dst, int64_t in, int64_t out, double scale) {
  int64_t src;
  if (out == in) src = dst;
  else if (out == 2 * in) src = dst >> 1;
  else src = clamp_index(std::floor(float(dst) * scales_value<float>(scale, in, out)), in);
  return {{src, src}, {T(1), T(0)}, 1};
}

// Bilinear: area_pixel_compute_source_index + guard_index_and_lambda, in the element type.
template <class T>
Taps<T> bilinear_taps(int64_t dst, int64_t in, int64_t out, double scale, bool align_corners) {
  if (out == in) return {{dst, dst}, {T(1), T(0)}, 1};
  const T ratio = align_corners ? (out > 1 ? T(in - 1) / T(out - 1) : T(0)) : scales_value<T>(scale, in, out);
  T src = align_corners ? ratio * T(dst) : ratio * (T(dst) + T(0.5)) - T(0.5);
  if (!align_corners && src < T(0)) src = T(0);
  const int64_t i0 = clamp_index(std::floor(src), in);
  const T lambda1 = std::min(std::max(src - T(i0), T(0)), T(1));
  const int64_t i1 = i0 + (i0 < in - 1 ? 1 : 0);
  return {{i0, i1}, {T(1) - lambda1, lambda1}, 2};
}

template <class T>
std::vector<Taps<T>> axis_taps(const Upsample2dParams& p, int64_t in, int64_t out, double scale) {
  std::vector<Taps<T>> taps(static_cast<size_t>(out));
  for (int64_t d = 0; d < out; ++d)
    taps[size_t(d)] = p.mode == UpsampleMode::Nearest ? nearest_taps<T>(d, in, out, scale)
                                                      : bilinear_taps<T>(d, in, out, scale, p.align_corners);
  return taps;
}

}  // namespace

template <class T>
void dropout_forward(const DropoutParams& params, const T* x, T* y, uint8_t* mask) {
  const Philox rng(params.seed);
  const DropoutApply<T> apply{T(params.scale())};
  // One generator call yields the words of four consecutive elements (element i uses word i of the stream).
  parallel_for((params.n + 3) / 4, kTaskWork / 4, [&](int64_t c0, int64_t c1) {
    for (int64_t c = c0; c < c1; ++c) {
      uint32_t words[4];
      rng.generate(params.offset + uint64_t(c), words);
      for (int64_t lane = 0, i = 4 * c; lane < 4 && i < params.n; ++lane, ++i) {
        mask[i] = Philox::to_uniform(words[lane]) >= params.p ? 1 : 0;
        y[i] = apply(x[i], mask[i]);
      }
    }
  });
}

template <class T>
void dropout_backward(const DropoutParams& params, const T* dy, const uint8_t* mask, T* dx) {
  const DropoutApply<T> apply{T(params.scale())};
  parallel_for(params.n, kTaskWork, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) dx[i] = apply(dy[i], mask[i]);
  });
}

template <class T>
void prelu_forward(const PreluParams& params, const T* x, const T* weight, T* y) {
  const int64_t C = params.C, L = params.L;
  parallel_for(params.N * C, grain_for(L), [&](int64_t begin, int64_t end) {
    for (int64_t nc = begin; nc < end; ++nc) {
      const PreluApply<T> f{weight[params.weight_index(nc % C)]};
      for (int64_t l = 0; l < L; ++l) y[nc * L + l] = f(x[nc * L + l]);
    }
  });
}

template <class T>
void prelu_backward(const PreluParams& params, const T* x, const T* dy, const T* weight, T* dx, T* dweight) {
  const int64_t N = params.N, C = params.C, L = params.L;
  if (dx) {
    parallel_for(N * C, grain_for(L), [&](int64_t begin, int64_t end) {
      for (int64_t nc = begin; nc < end; ++nc) {
        const T slope = weight[params.weight_index(nc % C)];
        for (int64_t l = 0; l < L; ++l) {
          const int64_t i = nc * L + l;
          dx[i] = x[i] > T(0) ? dy[i] : slope * dy[i];
        }
      }
    });
  }
  if (!dweight) return;
  if (N * L == 0) {
    // No elements: a zero gradient, without a per-channel buffer for a C no buffer length bounds.
    std::fill(dweight, dweight + params.num_weights, T(0));
    return;
  }
  std::vector<double> per_channel(size_t(C), 0.0);
  parallel_for(C, grain_for(N * L), [&](int64_t begin, int64_t end) {
    for (int64_t c = begin; c < end; ++c) {
      double acc = 0;
      for (int64_t n = 0; n < N; ++n)
        for (int64_t l = 0; l < L; ++l) {
          const int64_t i = (n * C + c) * L + l;
          if (!(x[i] > T(0))) acc += double(x[i]) * double(dy[i]);
        }
      per_channel[size_t(c)] = acc;
    }
  });
  if (params.num_weights == 1) {
    double total = 0;
    for (double v : per_channel) total += v;
    dweight[0] = T(total);
  } else {
    for (int64_t c = 0; c < C; ++c) dweight[c] = T(per_channel[size_t(c)]);
  }
}

template <class T>
void upsample2d_forward(const Upsample2dParams& p, const T* x, T* y) {
  // No planes: nothing to write, and the per-axis taps of an unchecked output size must not be allocated.
  if (p.N * p.C == 0) return;
  const auto th = axis_taps<T>(p, p.in_h, p.out_h, p.scale_h), tw = axis_taps<T>(p, p.in_w, p.out_w, p.scale_w);
  const int64_t in_plane = p.in_h * p.in_w, out_plane = p.out_h * p.out_w;
  parallel_for(p.N * p.C, grain_for(out_plane), [&](int64_t begin, int64_t end) {
    for (int64_t plane = begin; plane < end; ++plane) {
      const T* xp = x + plane * in_plane;
      T* yp = y + plane * out_plane;
      for (int64_t oh = 0; oh < p.out_h; ++oh) {
        const Taps<T>& h = th[size_t(oh)];
        for (int64_t ow = 0; ow < p.out_w; ++ow) {
          const Taps<T>& w = tw[size_t(ow)];
          T acc = T(0);
          for (int a = 0; a < h.count; ++a) {
            T row = T(0);
            for (int b = 0; b < w.count; ++b) row += w.weight[b] * xp[h.index[a] * p.in_w + w.index[b]];
            acc += h.weight[a] * row;
          }
          yp[oh * p.out_w + ow] = acc;
        }
      }
    }
  });
}

template <class T>
void upsample2d_backward(const Upsample2dParams& p, const T* dy, T* dx) {
  if (p.N * p.C == 0) return;
  const auto th = axis_taps<T>(p, p.in_h, p.out_h, p.scale_h), tw = axis_taps<T>(p, p.in_w, p.out_w, p.scale_w);
  const int64_t in_plane = p.in_h * p.in_w, out_plane = p.out_h * p.out_w;
  parallel_for(p.N * p.C, grain_for(out_plane), [&](int64_t begin, int64_t end) {
    for (int64_t plane = begin; plane < end; ++plane) {
      T* xp = dx + plane * in_plane;
      const T* yp = dy + plane * out_plane;
      std::fill(xp, xp + in_plane, T(0));
      for (int64_t oh = 0; oh < p.out_h; ++oh) {
        const Taps<T>& h = th[size_t(oh)];
        for (int64_t ow = 0; ow < p.out_w; ++ow) {
          const Taps<T>& w = tw[size_t(ow)];
          const T g = yp[oh * p.out_w + ow];
          for (int a = 0; a < h.count; ++a)
            for (int b = 0; b < w.count; ++b) xp[h.index[a] * p.in_w + w.index[b]] += h.weight[a] * w.weight[b] * g;
        }
      }
    }
  });
}

#define TF_INSTANTIATE_NN(T)                                                                            \
  template void dropout_forward<T>(const DropoutParams&, const T*, T*, uint8_t*);                       \
  template void dropout_backward<T>(const DropoutParams&, const T*, const uint8_t*, T*);                \
  template void prelu_forward<T>(const PreluParams&, const T*, const T*, T*);                           \
  template void prelu_backward<T>(const PreluParams&, const T*, const T*, const T*, T*, T*);            \
  template void upsample2d_forward<T>(const Upsample2dParams&, const T*, T*);                           \
  template void upsample2d_backward<T>(const Upsample2dParams&, const T*, T*);
TF_INSTANTIATE_NN(float)
TF_INSTANTIATE_NN(double)
#undef TF_INSTANTIATE_NN

}  // namespace tf::cpu
