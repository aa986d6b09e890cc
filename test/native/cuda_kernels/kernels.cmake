# tf_cuda_kernels_test: native/cuda/{elementwise,reduce,index,random}.cu (and the runtime they launch through) compiled as C++ against the emulator and
# compared with tf::cpu (kernels_test.cc). Include after native/cuda/emu/emu.cmake (TF_CUDA=EMULATE), then
#   cmake --build <dir> --target tf_cuda_kernels_test && TENSORFORGE_EMU_CHECKED=1 <dir>/tf_cuda_kernels_test
get_filename_component(TF_KERNELS_ROOT "${CMAKE_CURRENT_LIST_DIR}/../../.." ABSOLUTE)
set(TF_KERNELS_CUDA_SOURCES
  ${TF_KERNELS_ROOT}/native/cuda/elementwise.cu
  ${TF_KERNELS_ROOT}/native/cuda/reduce.cu
  ${TF_KERNELS_ROOT}/native/cuda/index.cu
  ${TF_KERNELS_ROOT}/native/cuda/random.cu
  ${TF_KERNELS_ROOT}/native/cuda/runtime.cu)
# The emulated build compiles .cu sources with the C++ compiler, told that they are C++ (it would pass an
# unknown extension to the linker).
set_source_files_properties(${TF_KERNELS_CUDA_SOURCES} PROPERTIES LANGUAGE CXX COMPILE_OPTIONS "-xc++")
add_executable(tf_cuda_kernels_test EXCLUDE_FROM_ALL
  ${CMAKE_CURRENT_LIST_DIR}/kernels_test.cc
  ${TF_KERNELS_CUDA_SOURCES}
  ${TF_EMU_SOURCES}
  ${TF_KERNELS_ROOT}/native/cpu/elementwise.cc
  ${TF_KERNELS_ROOT}/native/cpu/reduce.cc
  ${TF_KERNELS_ROOT}/native/cpu/nn.cc
  ${TF_KERNELS_ROOT}/native/core/shape.cc
  ${TF_KERNELS_ROOT}/native/core/thread_pool.cc
  ${TF_KERNELS_ROOT}/native/core/nn.cc)
target_include_directories(tf_cuda_kernels_test PRIVATE ${TF_KERNELS_ROOT}/native)
target_compile_definitions(tf_cuda_kernels_test PRIVATE TF_CUDA_EMULATE=1)
target_compile_options(tf_cuda_kernels_test PRIVATE -O1 -Wall -Wextra -Wno-unused-parameter)
target_link_libraries(tf_cuda_kernels_test PRIVATE Threads::Threads)
