build-tsan/tools/s2s/render_svg.o: tools/s2s/render_svg.c \
  tools/s2s/heatmap.h

tools/s2s/heatmap.h:
