build-tsan/engine/rnn.o: engine/rnn.c engine/compute.h engine/model.h \
  engine/include/s2s.h engine/kernels.h tokenizer/tokenizer.h

engine/compute.h:

engine/model.h:

engine/include/s2s.h:

engine/kernels.h:

tokenizer/tokenizer.h:
