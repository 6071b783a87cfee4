build-tsan/tokenizer/bpe.o: tokenizer/bpe.c tokenizer/tok_internal.h \
  tokenizer/tokenizer.h

tokenizer/tok_internal.h:

tokenizer/tokenizer.h:
