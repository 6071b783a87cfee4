build-tsan/tools/s2s/cmd_align.o: tools/s2s/cmd_align.c tools/s2s/cli.h \
  engine/include/s2s.h tools/s2s/heatmap.h

tools/s2s/cli.h:

engine/include/s2s.h:

tools/s2s/heatmap.h:
