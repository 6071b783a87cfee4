build-tsan/engine/model.o: engine/model.c engine/config.h engine/model.h \
  engine/include/s2s.h engine/kernels.h tokenizer/tokenizer.h \
  engine/error.h engine/safetensors.h

engine/config.h:

engine/model.h:

engine/include/s2s.h:

engine/kernels.h:

tokenizer/tokenizer.h:

engine/error.h:

engine/safetensors.h:
