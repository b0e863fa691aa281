/* count_of.h — how many times a string occurs in a text (overlaps count),
 * for the tests that assert on generated code or a printed plan. */
#ifndef COUNT_OF_H
#define COUNT_OF_H

#include <string.h>

static inline int count_of(const char *text, const char *what) {
    int n = 0;
    for (const char *p = strstr(text, what); p; p = strstr(p + 1, what))
        n++;
    return n;
}

#endif
