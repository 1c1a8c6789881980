"""Training: the White-box GAN and the pretrainer, their losses, builders, callbacks and the loop."""
