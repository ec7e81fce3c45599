"""scripts/nlprnn_rng.py — the library's random draws in Python, for the scripts that must repeat
a split the C code made (scripts/valid-split.py: `nlprnn train --valid-split`;
scripts/translate-heldout.py: `nlprnn translate-train --valid`).

common/rng.c: xoshiro256** seeded by four splitmix64 outputs; nr_seed_mix mixes
a seed with two counters (train/trainer.c). Bit for bit the same values as the C functions (64-bit arithmetic
modulo 2^64)."""

M = (1 << 64) - 1


def splitmix64(state):
    """One splitmix64 step: (new state, output)."""
    state = (state + 0x9E3779B97F4A7C15) & M
    z = state
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M
    return state, z ^ (z >> 31)


def rotl(x, k):
    return ((x << k) | (x >> (64 - k))) & M


def seed_mix(a, b, c):
    """nr_seed_mix(a, b, c)."""
    return ((a * 0x9E3779B97F4A7C15) & M) ^ (((b + 0x632BE59BD9B4E019) * 0xC2B2AE3D27D4EB4F) & M) ^ \
        (((c + 1) * 0x165667B19E3779F9) & M)


class Xoshiro:
    """xoshiro256** as nr_rng: u64(), uniform() (24 bits, [0, 1)), below(n) (unbiased), shuffle(a)."""

    def __init__(self, seed):
        self.s = []
        for _ in range(4):
            seed, v = splitmix64(seed)
            self.s.append(v)

    def u64(self):
        s = self.s
        result = (rotl((s[1] * 5) & M, 7) * 9) & M
        t = (s[1] << 17) & M
        s[2] ^= s[0]
        s[3] ^= s[1]
        s[1] ^= s[2]
        s[0] ^= s[3]
        s[2] ^= t
        s[3] = rotl(s[3], 45)
        return result

    def uniform(self):
        return (self.u64() >> 40) / 16777216.0

    def below(self, n):
        limit = M - M % n
        while True:
            x = self.u64()
            if x < limit:
                return x % n

    def shuffle(self, a):
        """Shuffle the list a in place as nr_rng_shuffle does (common/rng.c): Fisher-Yates from the
        last element down, element i swapped with below(i + 1)."""
        for i in range(len(a) - 1, 0, -1):
            j = self.below(i + 1)
            a[i], a[j] = a[j], a[i]
