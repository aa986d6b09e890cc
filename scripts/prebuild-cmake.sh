#!/bin/sh
# prebuildify always runs "$node_gyp rebuild ..."; this shim makes it run the cmake-js build instead
# (static OpenBLAS and CUDA inside the prebuilt binary).
exec node "$(dirname "$0")/../node_modules/cmake-js/bin/cmake-js" rebuild
