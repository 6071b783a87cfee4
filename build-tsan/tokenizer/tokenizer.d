build-tsan/tokenizer/tokenizer.o: tokenizer/tokenizer.c \
  tokenizer/tok_internal.h tokenizer/tokenizer.h

tokenizer/tok_internal.h:

tokenizer/tokenizer.h:
