build-tsan/tools/s2s/cmd_translate.o: tools/s2s/cmd_translate.c \
  tools/s2s/cli_format.h tools/s2s/cli.h engine/include/s2s.h \
  tools/s2s/cli_unk.h

tools/s2s/cli_format.h:

tools/s2s/cli.h:

engine/include/s2s.h:

tools/s2s/cli_unk.h:
