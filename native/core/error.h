// Argument errors raised by validation code anywhere in the native core.
// The binding layer turns them into JS TypeError / RangeError; kernels never abort the process.
#pragma once
#include <sstream>
#include <stdexcept>
#include <string>

namespace tf {

enum class ErrorKind { Type, Range, Generic };

struct Error : std::runtime_error {
  ErrorKind kind;
  Error(ErrorKind k, const std::string& msg) : std::runtime_error(msg), kind(k) {}
};

namespace detail {
inline void append(std::ostringstream&) {}
template <class T, class... Rest>
void append(std::ostringstream& os, const T& v, const Rest&... rest) {
  os << v;
  append(os, rest...);
}
}  // namespace detail

template <class... Parts>
[[noreturn]] void fail(ErrorKind kind, const Parts&... parts) {
  std::ostringstream os;
  detail::append(os, parts...);
  throw Error(kind, os.str());
}

}  // namespace tf

// TF_CHECK(cond, Range, "conv2d: ", "stride must be > 0, got ", s)
#define TF_CHECK(cond, kind, ...)                              \
  do {                                                         \
    if (!(cond)) ::tf::fail(::tf::ErrorKind::kind, __VA_ARGS__); \
  } while (0)
