build-tsan/tools/s2s/main.o: tools/s2s/main.c tools/s2s/cli.h \
  engine/include/s2s.h

tools/s2s/cli.h:

engine/include/s2s.h:
