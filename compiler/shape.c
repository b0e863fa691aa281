/* shape.c — the Shape value type and its one printer. */
#include "cnnc.h"

Shape shape_image(int h, int w, int c) { return (Shape){3, h, w, c}; }
Shape shape_vector(int n) { return (Shape){1, 1, 1, n}; }

long long shape_count(Shape s) { return (long long)s.h * s.w * s.c; }

const char *shape_str(Shape s) {
    if (s.rank == 1)
        return arena_printf("%d", s.c);
    return arena_printf("%dx%dx%d", s.h, s.w, s.c);
}
