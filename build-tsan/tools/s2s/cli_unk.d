build-tsan/tools/s2s/cli_unk.o: tools/s2s/cli_unk.c tools/s2s/cli_unk.h \
  tools/s2s/cli.h engine/include/s2s.h

tools/s2s/cli_unk.h:

tools/s2s/cli.h:

engine/include/s2s.h:
