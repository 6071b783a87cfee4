build-tsan/tools/s2s/render_term.o: tools/s2s/render_term.c \
  tools/s2s/heatmap.h

tools/s2s/heatmap.h:
