// core kernels of the optim family (being written).
