{
  "targets": [
    {
      "target_name": "tensorforge",
      "sources": ["<!@(grep -v '^#' native/sources.txt)", "native/cuda/absent.cc"],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")", "native"],
      "defines": ["NAPI_VERSION=8", "NAPI_CPP_EXCEPTIONS", "NODE_ADDON_API_DISABLE_DEPRECATED", "TF_BLAS_KIND=\"portable\""],
      "cflags_cc!": ["-fno-exceptions", "-fno-rtti"],
      "cflags_cc": ["-std=c++17", "-O3", "-fexceptions", "-fno-math-errno"],
      "conditions": [
        ["'<!(pkg-config --exists openblas && echo 1 || echo 0)'=='1'", {
          "defines!": ["TF_BLAS_KIND=\"portable\""],
          "defines": ["TF_HAVE_CBLAS=1", "TF_BLAS_KIND=\"openblas-shared\""],
          "cflags_cc": ["<!@(pkg-config --cflags openblas)"],
          "libraries": ["<!@(pkg-config --libs openblas)"]
        }]
      ]
    }
  ]
}
