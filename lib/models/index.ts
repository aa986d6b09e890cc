/** Reference architectures. */
export { lenet5 } from './lenet.js';
export { resnet20, CifarResNet, BasicBlock } from './resnet.js';
