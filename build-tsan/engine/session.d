build-tsan/engine/session.o: engine/session.c engine/arena.h \
  engine/copy.h engine/model.h engine/include/s2s.h engine/kernels.h \
  tokenizer/tokenizer.h engine/error.h engine/result.h engine/search.h \
  engine/compute.h

engine/arena.h:

engine/copy.h:

engine/model.h:

engine/include/s2s.h:

engine/kernels.h:

tokenizer/tokenizer.h:

engine/error.h:

engine/result.h:

engine/search.h:

engine/compute.h:
