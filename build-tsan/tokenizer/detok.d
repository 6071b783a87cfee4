build-tsan/tokenizer/detok.o: tokenizer/detok.c tokenizer/tok_internal.h \
  tokenizer/tokenizer.h

tokenizer/tok_internal.h:

tokenizer/tokenizer.h:
