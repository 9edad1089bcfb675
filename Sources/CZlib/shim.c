// zlib is linked from the system; this target only carries its header (include/CZlib.h).
