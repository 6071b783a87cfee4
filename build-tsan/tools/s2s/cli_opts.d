build-tsan/tools/s2s/cli_opts.o: tools/s2s/cli_opts.c tools/s2s/cli.h \
  engine/include/s2s.h

tools/s2s/cli.h:

engine/include/s2s.h:
