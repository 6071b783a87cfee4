build-tsan/engine/result.o: engine/result.c engine/result.h \
  engine/include/s2s.h engine/model.h engine/kernels.h \
  tokenizer/tokenizer.h

engine/result.h:

engine/include/s2s.h:

engine/model.h:

engine/kernels.h:

tokenizer/tokenizer.h:
