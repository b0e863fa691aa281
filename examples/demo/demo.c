/* demo.c — a product embedding cnnc's output.
 *
 * Draws a 32x32 test picture (a filled disc and a square), runs the edges
 * model that cnnc compiled from edges.cnn, and prints input and output side
 * by side as ASCII art.  Build: cc demo.c edges.c -I<runtime> -lm */
#include <stdio.h>

#include "edges.h"

#define N 32

static void draw_picture(float *img) {
    for (int y = 0; y < N; y++)
        for (int x = 0; x < N; x++) {
            int dx = x - 10, dy = y - 11;
            int in_disc = dx * dx + dy * dy <= 49;
            int in_square = x >= 18 && x <= 28 && y >= 16 && y <= 27;
            img[y * N + x] = (in_disc || in_square) ? 255.0f : 0.0f;
        }
}

static char shade(float v, float max) {
    static const char ramp[] = " .:-=+*#%@";
    int i = max > 0 ? (int)(v / max * 9.0f + 0.5f) : 0;
    return ramp[i < 0 ? 0 : i > 9 ? 9 : i];
}

int main(void) {
    static float input[EDGES_INPUT_SIZE], output[EDGES_OUTPUT_SIZE];
    draw_picture(input);
    edges_infer(input, output);
    float max = 0;
    for (int i = 0; i < EDGES_OUTPUT_SIZE; i++)
        if (output[i] > max)
            max = output[i];
    printf("%-*s   %s\n", N, "input", "edges (blur, then Laplacian, relu)");
    for (int y = 0; y < N; y++) {
        for (int x = 0; x < N; x++)
            putchar(shade(input[y * N + x], 255.0f));
        printf("   ");
        for (int x = 0; x < N; x++)
            putchar(shade(output[y * N + x], max));
        putchar('\n');
    }
    printf("strongest edge response: %.4f\n", max);
    return 0;
}
