// core kernels of the loss family (being written).
