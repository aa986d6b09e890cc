// cpu kernels of the pool family (being written).
