build-tsan/tools/s2s/cli_run.o: tools/s2s/cli_run.c tools/s2s/cli.h \
  engine/include/s2s.h

tools/s2s/cli.h:

engine/include/s2s.h:
