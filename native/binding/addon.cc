#include <napi.h>

#include "binding/registry.h"

namespace {

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  using namespace tf::binding;
  register_runtime(env, exports);
  register_device(env, exports);
  register_gemm(env, exports);
  register_elementwise(env, exports);
  register_reduce(env, exports);
  register_conv(env, exports);
  register_pool(env, exports);
  register_norm(env, exports);
  register_nn(env, exports);
  register_loss(env, exports);
  register_optim(env, exports);
  return exports;
}

}  // namespace

NODE_API_MODULE(tensorforge, Init)
