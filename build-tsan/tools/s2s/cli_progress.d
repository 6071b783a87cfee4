build-tsan/tools/s2s/cli_progress.o: tools/s2s/cli_progress.c \
  tools/s2s/cli.h engine/include/s2s.h

tools/s2s/cli.h:

engine/include/s2s.h:
