build-tsan/engine/safetensors.o: engine/safetensors.c \
  engine/safetensors.h engine/include/s2s.h engine/config.h \
  engine/model.h engine/kernels.h tokenizer/tokenizer.h engine/error.h

engine/safetensors.h:

engine/include/s2s.h:

engine/config.h:

engine/model.h:

engine/kernels.h:

tokenizer/tokenizer.h:

engine/error.h:
