// Each op family exports its binding functions from its own file; addon.cc calls them all.
#pragma once
#include <napi.h>

namespace tf::binding {

void register_runtime(Napi::Env env, Napi::Object exports);      // backendInfo, threads
void register_device(Napi::Env env, Napi::Object exports);       // device handles, copies, memory stats
void register_gemm(Napi::Env env, Napi::Object exports);         // gemm, gemmBatched
void register_elementwise(Napi::Env env, Napi::Object exports);  // unary/binary/ternary strided maps, copy
void register_reduce(Napi::Env env, Napi::Object exports);       // reductions, softmax, indexing
void register_conv(Napi::Env env, Napi::Object exports);         // conv2d forward/backward
void register_pool(Napi::Env env, Napi::Object exports);         // max/avg/adaptive pooling
void register_norm(Napi::Env env, Napi::Object exports);         // batch/layer/group norm
void register_nn(Napi::Env env, Napi::Object exports);           // dropout, upsample, prelu
void register_loss(Napi::Env env, Napi::Object exports);         // fused losses
void register_optim(Napi::Env env, Napi::Object exports);        // fused optimizer updates

}  // namespace tf::binding
