// core kernels of the nn family (being written).
