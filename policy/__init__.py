"""The CrossGuard policy pack every stack is previewed with (`pulumi preview --policy-pack policy`)."""
