build-tsan/engine/kernels.o: engine/kernels.c engine/kernels.h

engine/kernels.h:
