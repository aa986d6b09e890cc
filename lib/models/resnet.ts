/**
 * The CIFAR ResNets of He et al. 2016 ("Deep Residual Learning for Image Recognition", §4.2): a 3×3 stem
 * of 16 channels, three stages of n basic blocks at 16, 32 and 64 channels (the first block of stages 2
 * and 3 halves the resolution with stride 2), global average pooling and a linear classifier; depth 6n + 2.
 *
 * Shortcuts are option A, as in the paper's CIFAR experiments: identity, and where the shape changes,
 * the input subsampled by 2 and zero-padded from C to 2C channels. They have no parameters, which is
 * why ResNet-20 has 0.27 M of them (269,722 for 10 classes), not the 0.28 M of 1×1 projection shortcuts.
 *
 * Key names follow torchvision's ResNet: conv1, bn1, layer1.0.conv1, layer1.0.bn1, ..., fc.
 */
import type { Tensor } from '../tensor.js';
import { Module, Sequential, Conv2d, BatchNormReLU2d, Linear, F, init } from '../nn/index.js';

/** A 3×3 convolution without bias (batch norm follows), He-normal initialized as in the paper. */
function conv3x3(inChannels: number, outChannels: number, stride: number): Conv2d {
  const conv = new Conv2d(inChannels, outChannels, 3, { stride, padding: 1, bias: false });
  init.kaimingNormal_(conv.weight, { nonlinearity: 'relu' });
  return conv;
}

/**
 * conv3×3 → BN → ReLU → conv3×3 → BN, plus the shortcut, then ReLU (each BN fused with what follows it).
 * Input [N, inPlanes, H, W], output [N, planes, H/stride, W/stride].
 */
export class BasicBlock extends Module {
  readonly conv1: Conv2d;
  readonly bn1: BatchNormReLU2d;
  readonly conv2: Conv2d;
  readonly bn2: BatchNormReLU2d;
  /** Whether the shortcut subsamples and zero-pads channels (option A) instead of passing x through. */
  readonly reshapes: boolean;

  constructor(readonly inPlanes: number, readonly planes: number, readonly stride = 1) {
    super();
    if (stride !== 1 && stride !== 2) throw new RangeError(`BasicBlock: stride must be 1 or 2, got ${stride}`);
    this.reshapes = stride !== 1 || inPlanes !== planes;
    if (this.reshapes && (stride !== 2 || planes !== 2 * inPlanes)) {
      throw new RangeError(`BasicBlock: an option-A shortcut needs stride 2 and planes = 2·inPlanes, got ${inPlanes} → ${planes}, stride ${stride}`);
    }
    this.conv1 = conv3x3(inPlanes, planes, stride);
    this.bn1 = new BatchNormReLU2d(planes);
    this.conv2 = conv3x3(planes, planes, 1);
    this.bn2 = new BatchNormReLU2d(planes);
  }

  forward(x: Tensor): Tensor {
    return this.bn2(this.conv2(this.bn1(this.conv1(x))), this.shortcut(x));
  }

  /** x, or x[:, :, ::2, ::2] with inPlanes/2 zero channels on each side. */
  private shortcut(x: Tensor): Tensor {
    if (!this.reshapes) return x;
    const side = this.inPlanes / 2;
    return x.slice(2, 0, undefined, 2).slice(3, 0, undefined, 2).pad([0, 0, 0, 0, side, side]);
  }

  override extraRepr(): string {
    return `${this.inPlanes}, ${this.planes}, stride=${this.stride}, shortcut=${this.reshapes ? 'A' : 'identity'}`;
  }
}

/** The CIFAR ResNet of depth 6·blocksPerStage + 2. Input [N, 3, 32, 32] (any H, W divisible by 4), output logits [N, classes]. */
export class CifarResNet extends Module {
  readonly conv1: Conv2d;
  readonly bn1: BatchNormReLU2d;
  readonly layer1: Sequential;
  readonly layer2: Sequential;
  readonly layer3: Sequential;
  readonly fc: Linear;

  constructor(readonly blocksPerStage: number, classes = 10) {
    super();
    if (!Number.isSafeInteger(blocksPerStage) || blocksPerStage < 1) {
      throw new RangeError(`CifarResNet: blocksPerStage must be an integer >= 1, got ${blocksPerStage}`);
    }
    if (!Number.isSafeInteger(classes) || classes < 1) throw new RangeError(`CifarResNet: classes must be an integer >= 1, got ${classes}`);
    const stage = (inPlanes: number, planes: number, stride: number): Sequential =>
      new Sequential(...Array.from({ length: blocksPerStage }, (_, i) => (i === 0 ? new BasicBlock(inPlanes, planes, stride) : new BasicBlock(planes, planes))));
    this.conv1 = conv3x3(3, 16, 1);
    this.bn1 = new BatchNormReLU2d(16);
    this.layer1 = stage(16, 16, 1);
    this.layer2 = stage(16, 32, 2);
    this.layer3 = stage(32, 64, 2);
    this.fc = new Linear(64, classes);
  }

  forward(x: Tensor): Tensor {
    const features = this.layer3(this.layer2(this.layer1(this.bn1(this.conv1(x)))));
    return this.fc(F.globalAvgPool2d(features));
  }
}

/** ResNet-20 for CIFAR (3 blocks per stage, option-A shortcuts): 269,722 parameters at 10 classes. */
export function resnet20(classes = 10): CifarResNet {
  return new CifarResNet(3, classes);
}
