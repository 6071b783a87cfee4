build-tsan/tokenizer/vocab.o: tokenizer/vocab.c tokenizer/tokenizer.h

tokenizer/tokenizer.h:
