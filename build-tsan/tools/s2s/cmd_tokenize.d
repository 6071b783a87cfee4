build-tsan/tools/s2s/cmd_tokenize.o: tools/s2s/cmd_tokenize.c \
  tools/s2s/cli.h engine/include/s2s.h

tools/s2s/cli.h:

engine/include/s2s.h:
