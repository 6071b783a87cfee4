build-tsan/tools/s2s/cmd_info.o: tools/s2s/cmd_info.c tools/s2s/cli.h \
  engine/include/s2s.h

tools/s2s/cli.h:

engine/include/s2s.h:
