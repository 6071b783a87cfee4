build-tsan/tools/s2s/cli_format.o: tools/s2s/cli_format.c \
  tools/s2s/cli_format.h tools/s2s/cli.h engine/include/s2s.h

tools/s2s/cli_format.h:

tools/s2s/cli.h:

engine/include/s2s.h:
