build-tsan/engine/tokenize.o: engine/tokenize.c engine/error.h \
  engine/include/s2s.h tokenizer/tokenizer.h engine/model.h \
  engine/kernels.h

engine/error.h:

engine/include/s2s.h:

tokenizer/tokenizer.h:

engine/model.h:

engine/kernels.h:
