build-tsan/engine/attention.o: engine/attention.c engine/compute.h \
  engine/model.h engine/include/s2s.h engine/kernels.h \
  tokenizer/tokenizer.h

engine/compute.h:

engine/model.h:

engine/include/s2s.h:

engine/kernels.h:

tokenizer/tokenizer.h:
