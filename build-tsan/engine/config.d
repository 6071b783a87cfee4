build-tsan/engine/config.o: engine/config.c engine/config.h \
  engine/model.h engine/include/s2s.h engine/kernels.h \
  tokenizer/tokenizer.h engine/error.h

engine/config.h:

engine/model.h:

engine/include/s2s.h:

engine/kernels.h:

tokenizer/tokenizer.h:

engine/error.h:
