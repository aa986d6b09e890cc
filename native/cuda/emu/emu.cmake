# The emulated CUDA runtime and execution model (TF_CUDA=EMULATE): TF_EMU_SOURCES for the addon, and
# tf_emu_selftest, the emulator's own test (test/native/cuda_emu/). Included from the top-level CMakeLists.txt.
set(TF_EMU_DIR ${CMAKE_CURRENT_LIST_DIR})
get_filename_component(TF_EMU_ROOT "${TF_EMU_DIR}/../../.." ABSOLUTE)
set(TF_EMU_SOURCES
  ${TF_EMU_DIR}/exec.cc
  ${TF_EMU_DIR}/fiber.cc
  ${TF_EMU_DIR}/runtime.cc
  ${TF_EMU_DIR}/tensor_core.cc)
# For sources that include <cuda_runtime.h> directly (cuda/device.cu): it resolves to the emulation.
set(TF_EMU_INCLUDE_DIRS ${TF_EMU_DIR}/include)

find_package(Threads REQUIRED)
file(GLOB TF_EMU_TEST_SOURCES CONFIGURE_DEPENDS ${TF_EMU_ROOT}/test/native/cuda_emu/*.cc)
add_executable(tf_emu_selftest EXCLUDE_FROM_ALL ${TF_EMU_SOURCES} ${TF_EMU_TEST_SOURCES})
target_include_directories(tf_emu_selftest PRIVATE ${TF_EMU_ROOT}/native ${TF_EMU_INCLUDE_DIRS})
target_compile_definitions(tf_emu_selftest PRIVATE TF_CUDA_EMULATE=1)
target_compile_options(tf_emu_selftest PRIVATE -O2 -Wall -Wextra -Wno-unused-parameter)
target_link_libraries(tf_emu_selftest PRIVATE Threads::Threads)
