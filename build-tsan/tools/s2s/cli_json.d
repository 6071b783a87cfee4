build-tsan/tools/s2s/cli_json.o: tools/s2s/cli_json.c tools/s2s/cli.h \
  engine/include/s2s.h

tools/s2s/cli.h:

engine/include/s2s.h:
