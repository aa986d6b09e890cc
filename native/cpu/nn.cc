// cpu kernels of the nn family (being written).
