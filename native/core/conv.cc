// core kernels of the conv family (being written).
