build-tsan/tokenizer/normalize.o: tokenizer/normalize.c \
  tokenizer/tok_internal.h tokenizer/tokenizer.h

tokenizer/tok_internal.h:

tokenizer/tokenizer.h:
