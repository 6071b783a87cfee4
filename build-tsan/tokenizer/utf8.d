build-tsan/tokenizer/utf8.o: tokenizer/utf8.c tokenizer/tok_internal.h \
  tokenizer/tokenizer.h

tokenizer/tok_internal.h:

tokenizer/tokenizer.h:
