import Testing

/// Every test mounts a real filesystem through /dev/fuse; they run one at a time.
@Suite(.serialized)
struct FUSELowLevelTests {}
