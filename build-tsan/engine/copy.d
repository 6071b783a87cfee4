build-tsan/engine/copy.o: engine/copy.c engine/copy.h engine/model.h \
  engine/include/s2s.h engine/kernels.h tokenizer/tokenizer.h

engine/copy.h:

engine/model.h:

engine/include/s2s.h:

engine/kernels.h:

tokenizer/tokenizer.h:
