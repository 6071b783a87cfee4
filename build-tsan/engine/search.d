build-tsan/engine/search.o: engine/search.c engine/search.h \
  engine/arena.h engine/compute.h engine/model.h engine/include/s2s.h \
  engine/kernels.h tokenizer/tokenizer.h engine/error.h engine/result.h

engine/search.h:

engine/arena.h:

engine/compute.h:

engine/model.h:

engine/include/s2s.h:

engine/kernels.h:

tokenizer/tokenizer.h:

engine/error.h:

engine/result.h:
