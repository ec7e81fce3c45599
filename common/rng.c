/* common/rng.c: xoshiro256** (Blackman & Vigna), seeded with splitmix64. */
#include <math.h>
#include <string.h>

#include "common/common.h"

static uint64_t splitmix64(uint64_t *x) {
    uint64_t z = (*x += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

void nr_rng_seed(nr_rng *r, uint64_t seed) {
    for (int i = 0; i < 4; i++) r->s[i] = splitmix64(&seed);
}

static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

uint64_t nr_rng_u64(nr_rng *r) {
    uint64_t *s = r->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

float nr_rng_uniform(nr_rng *r) { return (float)(nr_rng_u64(r) >> 40) * (1.0f / 16777216.0f); }

uint64_t nr_rng_below(nr_rng *r, uint64_t n) {
    /* rejection sampling: draw until the value falls below the largest multiple of n */
    uint64_t limit = UINT64_MAX - UINT64_MAX % n;
    uint64_t x;
    do x = nr_rng_u64(r); while (x >= limit);
    return x % n;
}

float nr_rng_normal(nr_rng *r) {
    /* Box-Muller; u1 in (0, 1] so log() is finite */
    double u1 = ((double)(nr_rng_u64(r) >> 11) + 1.0) * (1.0 / 9007199254740992.0);
    double u2 = (double)(nr_rng_u64(r) >> 11) * (1.0 / 9007199254740992.0);
    return (float)(sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2));
}

void nr_rng_shuffle(nr_rng *r, void *base, size_t n, size_t size) {
    unsigned char *b = base, tmp[256];
    if (n < 2 || size > sizeof tmp) return;
    for (size_t i = n - 1; i > 0; i--) {
        size_t j = (size_t)nr_rng_below(r, i + 1);
        if (j == i) continue;
        memcpy(tmp, b + i * size, size);
        memcpy(b + i * size, b + j * size, size);
        memcpy(b + j * size, tmp, size);
    }
}
