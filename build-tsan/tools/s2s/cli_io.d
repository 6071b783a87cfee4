build-tsan/tools/s2s/cli_io.o: tools/s2s/cli_io.c tools/s2s/cli.h \
  engine/include/s2s.h

tools/s2s/cli.h:

engine/include/s2s.h:
