#include "cpu/nn.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "core/thread_pool.h"

namespace tf::cpu {
namespace {

template <class T>
using Taps = UpsampleTaps<T>;

template <class T>
std::vector<Taps<T>> axis_taps(const Upsample2dParams& p, int64_t in, int64_t out, double scale) {
  const UpsampleAxis<T> axis = upsample_axis<T>(p, in, out, scale);
  std::vector<Taps<T>> taps(static_cast<size_t>(out));
  for (int64_t d = 0; d < out; ++d) taps[size_t(d)] = axis.taps(d);
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
  template void dropout_backward<T>(const DropoutParams&, const T*, const uint8_t*, T*);

TF_INSTANTIATE_NN(float)
TF_INSTANTIATE_NN(double)
#undef TF_INSTANTIATE_NN
TF_INSTANTIATE_PRELU_UPSAMPLE

}  // namespace tf::cpu
