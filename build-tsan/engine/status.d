build-tsan/engine/status.o: engine/status.c engine/include/s2s.h \
  engine/error.h tokenizer/tokenizer.h

engine/include/s2s.h:

engine/error.h:

tokenizer/tokenizer.h:
