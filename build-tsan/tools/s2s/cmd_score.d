build-tsan/tools/s2s/cmd_score.o: tools/s2s/cmd_score.c \
  tools/s2s/cli_format.h tools/s2s/cli.h engine/include/s2s.h

tools/s2s/cli_format.h:

tools/s2s/cli.h:

engine/include/s2s.h:
