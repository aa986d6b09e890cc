/** LeNet-5 (LeCun et al. 1998) with ReLU and max pooling, for 1×28×28 inputs: 61,706 parameters. */
import { Sequential, Conv2d, ReLU, MaxPool2d, Flatten, Linear } from '../nn/index.js';

/**
 * conv 5×5 (6, padding 2) → ReLU → max 2 → conv 5×5 (16) → ReLU → max 2 → 400 → 120 → 84 → classes.
 * Input [N, 1, 28, 28], output logits [N, classes]. State-dict keys are those of the same torch.nn.Sequential:
 * 0.weight, 0.bias (conv 1), 3.* (conv 2), 7.*, 9.*, 11.* (the linear layers).
 */
export function lenet5(classes = 10): Sequential {
  return new Sequential(
    new Conv2d(1, 6, 5, { padding: 2 }),
    new ReLU(),
    new MaxPool2d(2),
    new Conv2d(6, 16, 5),
    new ReLU(),
    new MaxPool2d(2),
    new Flatten(),
    new Linear(16 * 5 * 5, 120),
    new ReLU(),
    new Linear(120, 84),
    new ReLU(),
    new Linear(84, classes),
  );
}
