#include "binding/args.h"
#include "binding/registry.h"

namespace tf::binding {

void register_loss(Napi::Env env, Napi::Object exports) {}

}  // namespace tf::binding
